#include <stdio.h>

#include "commands.h"
#include "sova.h"

const char cmd_version_summary[] = "print the version";

int cmd_version_main(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        printf("usage: sova version\n\nPrints sova's version.\n");
        return 0;
    }
    printf("sova %s\n", sova_version());
    return 0;
}
