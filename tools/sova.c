/* The `sova` command: dispatches to one subcommand per job. */
#include <stdio.h>
#include <string.h>

#include "base/status.h"
#include "commands.h"

static void usage(FILE *f) {
    fprintf(f, "usage: sova COMMAND [ARGS...]\n\ncommands:\n");
    for (int i = 0; i < sova_command_count; i++)
        fprintf(f, "  %-12s %s\n", sova_commands[i].name, sova_commands[i].summary);
    fprintf(f, "\n'sova COMMAND --help' describes one command.\n");
}

int cmd_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

int cmd_fail(const char *name) {
    fprintf(stderr, "sova %s: %s\n", name, sv_errmsg());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    const char *name = !strcmp(argv[1], "--version") ? "version" : argv[1];
    for (int i = 0; i < sova_command_count; i++)
        if (!strcmp(name, sova_commands[i].name)) return sova_commands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "sova: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
