/* engine/exit_status.h - the exit status of every fleetsim program (fleetsim and its
 * sub-commands, fleetsim-target): one set of numbers, so a script or CI job reads them the same
 * way whichever program it ran. The man pages list what each program means by them. */
#ifndef FLEETSIM_ENGINE_EXIT_STATUS_H
#define FLEETSIM_ENGINE_EXIT_STATUS_H

#define EXIT_STATUS_OK 0     /* done (and every threshold passed) */
#define EXIT_STATUS_FAILED 1 /* the work failed: unreachable server, missing fleet, I/O error */
#define EXIT_STATUS_USAGE 2  /* a wrong command line or input refused */
#define EXIT_STATUS_CLIENT_SATURATED 98 /* the run is invalid: fleetsim itself was saturated */
#define EXIT_STATUS_THRESHOLDS 99       /* a threshold failed (at the end, or aborted the run) */
#define EXIT_STATUS_INTERRUPTED 105     /* SIGINT/SIGTERM ended the run (as k6's external abort) */

#endif
