/* engine/report.h - all of fleetsim's report writers in one include: text summary and live
 * progress (report_text.h), summary JSON writer/reader and JSONL intervals (report_json.h). */
#ifndef FLEETSIM_ENGINE_REPORT_H
#define FLEETSIM_ENGINE_REPORT_H

#include "engine/report_json.h"
#include "engine/report_text.h"

#endif
