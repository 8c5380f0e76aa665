/* tests/lib/httpd_fx.c - the request layer on loopback in its own thread (see httpd_fx.h). */
#include "tests/lib/httpd_fx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

static void *loop_thread(void *arg)
{
    event_base_dispatch(arg);
    return NULL;
}

int httpd_fx_start(struct httpd_fx *fx, httpd_handler_fn handler, void *arg)
{
    memset(fx, 0, sizeof *fx);
    if (evthread_use_pthreads() < 0 || !(fx->base = event_base_new()))
        return -1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    fx->lev =
        evconnlistener_new_bind(fx->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                128, (struct sockaddr *)&sin, sizeof sin);
    struct httpd_config cfg = {.handler = handler, .arg = arg};
    httpd_limits_default(&cfg.limits);
    fx->httpd = fx->lev ? httpd_new(fx->base, fx->lev, &cfg) : NULL;
    socklen_t sl = sizeof sin;
    if (!fx->httpd ||
        getsockname(evconnlistener_get_fd(fx->lev), (struct sockaddr *)&sin, &sl) < 0 ||
        pthread_create(&fx->thread, NULL, loop_thread, fx->base) != 0) {
        httpd_fx_free(fx);
        return -1;
    }
    fx->port = ntohs(sin.sin_port);
    return 0;
}

void httpd_fx_halt(struct httpd_fx *fx)
{
    event_base_loopbreak(fx->base);
    pthread_join(fx->thread, NULL);
}

void httpd_fx_free(struct httpd_fx *fx)
{
    httpd_free(fx->httpd);
    if (fx->lev)
        evconnlistener_free(fx->lev);
    if (fx->base)
        event_base_free(fx->base);
    memset(fx, 0, sizeof *fx);
}
