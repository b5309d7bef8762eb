/* berth's pause process: holds an awsvpc task's network namespace until it is told to
 * stop. Built static by build.rs so it runs alone in an otherwise empty image. */
#include <signal.h>
#include <unistd.h>

static void stop(int sig) {
    (void)sig;
    _exit(0);
}

int main(void) {
    signal(SIGTERM, stop);
    signal(SIGINT, stop);
    for (;;) {
        pause();
    }
}
