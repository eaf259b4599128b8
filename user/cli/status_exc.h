/* status_exc.h - the timed exceptions' part of `portwall status`. */
#ifndef PW_STATUS_EXC_H
#define PW_STATUS_EXC_H

#include "datapath/loader.h"

/* "timed exceptions: none", or one line each with its time left. */
void pw_status_exc_text(const struct pw_dp *dp);
/* "exceptions":[{...}], (with the comma: the object goes on). */
void pw_status_exc_json(const struct pw_dp *dp);

#endif
