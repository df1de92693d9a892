/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Hyper-V enlightenments of an x86 vCPU, independent of the accelerator.
 */

#ifndef TARGET_I386_HYPERV_CPU_H
#define TARGET_I386_HYPERV_CPU_H

#include "cpu.h"

/*
 * Check that every hv-* feature the user enabled on @cpu comes with the
 * features it depends on (hv-synic needs hv-vpindex, hv-stimer needs
 * hv-synic and hv-time, ...).  Runs at realize on every accelerator, so a
 * bad command line is refused the same way on KVM, on TCG and under qtest.
 */
bool x86_hyperv_check_deps(X86CPU *cpu, Error **errp);

/* The -cpu property of HYPERV_FEAT_* @feat, e.g. "hv-synic". */
const char *x86_hyperv_feat_name(int feat);

#endif
