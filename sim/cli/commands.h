/* sim/cli/commands.h: the subcommands of `orionsim <command> [options]`.
 *
 * Each command lives in its own sim/cmd_<name>.c, takes argv starting at the command
 * name, and returns an exit code (EXIT_OK, EXIT_RUN, EXIT_INPUT from sim/base/util.h).
 * To add one: write the file, declare it here, add a row to the table in sim/cli/main.c.
 */
#ifndef SIM_COMMANDS_H
#define SIM_COMMANDS_H

int cmd_check(int argc, char **argv);
int cmd_flows(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_sweep_merge(int argc, char **argv);
int cmd_study(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_export_trace(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_fit(int argc, char **argv);

#endif
