/* tests/lib/httpd_fx.h - the reference server's request layer (refserver/httpd.h) serving plain
 * HTTP on 127.0.0.1 (ephemeral port) from its own thread, with a handler of the test's own:
 * the fixture of the ACME server and client unit tests. */
#ifndef FLEETSIM_TESTS_LIB_HTTPD_FX_H
#define FLEETSIM_TESTS_LIB_HTTPD_FX_H

#include <pthread.h>
#include <stdint.h>

#include "refserver/httpd.h"

struct event_base;
struct evconnlistener;

struct httpd_fx {
    struct event_base *base;
    struct evconnlistener *lev;
    struct httpd *httpd;
    pthread_t thread;
    uint16_t port;
};

/* Starts serving handler(req, arg) with the default limits. Returns 0, or -1 with nothing left
 * running. */
int httpd_fx_start(struct httpd_fx *fx, httpd_handler_fn handler, void *arg);

/* Stops the loop and joins its thread; the server is still allocated (requests the test holds
 * can be closed now, from this thread). */
void httpd_fx_halt(struct httpd_fx *fx);

/* Frees what httpd_fx_start made (after httpd_fx_halt). */
void httpd_fx_free(struct httpd_fx *fx);

#endif
