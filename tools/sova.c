/* The `sova` command: dispatches to one subcommand per job. */
#include <stdio.h>
#include <string.h>

#include "base/status.h"
#include "commands.h"
#include "sova.h"

static const sova_command k_commands[] = {
    {"version", "print the version", cmd_version_main},
};

static void usage(FILE *f) {
    fprintf(f, "usage: sova COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(f, "  %-12s %s\n", k_commands[i].name, k_commands[i].summary);
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

int cmd_version_main(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        printf("usage: sova version\n\nPrints sova's version.\n");
        return 0;
    }
    printf("sova %s\n", sova_version());
    return 0;
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
    if (!strcmp(argv[1], "--version")) return cmd_version_main(1, argv + 1);
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (!strcmp(argv[1], k_commands[i].name)) return k_commands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "sova: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
