/* Sub-subcommands of `sova gguf` (tools/gguf_*.c). Each returns the exit code. */
#ifndef SOVA_TOOLS_GGUF_CMD_H
#define SOVA_TOOLS_GGUF_CMD_H

int gguf_cmd_info(int argc, char **argv);
int gguf_cmd_hash(int argc, char **argv);
int gguf_cmd_manifest(int argc, char **argv);
int gguf_cmd_verify(int argc, char **argv);

/* Parses a thread count for -t; false when it is not a positive integer. */
int gguf_cmd_threads(const char *s, int *n);

#endif
