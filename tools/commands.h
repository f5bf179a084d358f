/* Subcommands of the `sova` command. Each returns the process exit code. */
#ifndef SOVA_TOOLS_COMMANDS_H
#define SOVA_TOOLS_COMMANDS_H

typedef struct {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv); /* argv[0] is the subcommand name */
} sova_command;

/* Generated from tools/cmd_*.c (see tools/CMakeLists.txt). */
extern const sova_command sova_commands[];
extern const int sova_command_count;

/* True when argv holds -h or --help. */
int cmd_wants_help(int argc, char **argv);

/* Prints "sova NAME: MESSAGE" for the current error and returns exit code 1. */
int cmd_fail(const char *name);

#endif
