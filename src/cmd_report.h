/* src/cmd_report.h - `fleetsim report FILE.json [--html OUT] [--interval-log FILE]`: prints
 * the text summary of a summary JSON (its thresholds evaluated again on its data) and, with
 * --html, writes the HTML report (charts over time when the run's --interval-log is given). */
#ifndef FLEETSIM_SRC_CMD_REPORT_H
#define FLEETSIM_SRC_CMD_REPORT_H

/* The command: argv[0] is "report". Returns the exit code: 0 the report was made (report
 * renders, it does not judge: `fleetsim merge` and the run exit 99 on failed thresholds),
 * 2 a usage error or an unreadable/invalid input, 1 the HTML could not be written. */
int cmd_report_main(int argc, char **argv);

#endif
