/* Leveled logging to stderr; the level comes from SOVA_LOG (error|warn|info|debug). */
#ifndef SV_LOG_H
#define SV_LOG_H

#include "base/status.h"

typedef enum { SV_LOG_ERROR = 0, SV_LOG_WARN, SV_LOG_INFO, SV_LOG_DEBUG } sv_log_level;

void sv_log(sv_log_level level, const char *fmt, ...) SV_PRINTF(2, 3);
void sv_log_set_level(sv_log_level level);
sv_log_level sv_log_get_level(void);

#define SV_LOGE(...) sv_log(SV_LOG_ERROR, __VA_ARGS__)
#define SV_LOGW(...) sv_log(SV_LOG_WARN, __VA_ARGS__)
#define SV_LOGI(...) sv_log(SV_LOG_INFO, __VA_ARGS__)
#define SV_LOGD(...) sv_log(SV_LOG_DEBUG, __VA_ARGS__)

#endif
