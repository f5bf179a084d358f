/* Subcommands of the `sova` command. Each returns the process exit code. */
#ifndef SOVA_TOOLS_COMMANDS_H
#define SOVA_TOOLS_COMMANDS_H

typedef struct {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv); /* argv[0] is the subcommand name */
} sova_command;

/* True when argv holds -h or --help. */
int cmd_wants_help(int argc, char **argv);

/* Prints "sova NAME: MESSAGE" for the current error and returns exit code 1. */
int cmd_fail(const char *name);

int cmd_version_main(int argc, char **argv);

#endif
