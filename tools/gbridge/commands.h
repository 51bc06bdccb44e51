/*
 * gbridge subcommands: each lives in its own cmd_<name>.c and is listed in
 * the table in main.c. A command returns the process exit status
 * (0 ok, 1 failure, 2 usage or input error).
 */
#ifndef GBRIDGE_COMMANDS_H
#define GBRIDGE_COMMANDS_H

int gbridge_cmd_version(int argc, char **argv);
int gbridge_cmd_clock(int argc, char **argv);
int gbridge_cmd_devices(int argc, char **argv);
int gbridge_cmd_match(int argc, char **argv);
int gbridge_cmd_demo(int argc, char **argv);

#endif
