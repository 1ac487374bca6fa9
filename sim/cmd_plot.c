/* sim/cmd_plot.c: placeholder while the plot driver is written. */
#include "sim/commands.h"
#include "sim/util.h"
int cmd_plot(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return EXIT_RUN;
}
