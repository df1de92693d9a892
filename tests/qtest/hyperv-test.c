/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * qtests for the Hyper-V enlightenments: the hv-* CPU properties, their
 * dependency rules, and the vmbus-bridge device's realize.
 *
 * Everything here needs no guest code: QEMU either starts and shows the
 * configuration through QOM, or refuses to start with a clear error, and
 * hyperv-testdev's commands are written to its port by the qtest.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qbool.h"
#include "qobject/qstring.h"

/* The QOM path of the first vCPU of a running QEMU. */
static char *first_cpu_path(QTestState *qts)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'query-cpus-fast'}");
    QList *cpus;
    QDict *cpu;
    char *path;

    g_assert(qdict_haskey(resp, "return"));
    cpus = qdict_get_qlist(resp, "return");
    g_assert(!qlist_empty(cpus));
    cpu = qobject_to(QDict, qlist_peek(cpus));
    path = g_strdup(qdict_get_str(cpu, "qom-path"));
    qobject_unref(resp);
    return path;
}

static QObject *cpu_prop(QTestState *qts, const char *path, const char *prop)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments':"
                            " {'path': %s, 'property': %s}}", path, prop);
    QObject *ret;

    g_assert(qdict_haskey(resp, "return"));
    ret = qdict_get(resp, "return");
    qobject_ref(ret);
    qobject_unref(resp);
    return ret;
}

static bool cpu_prop_bool(QTestState *qts, const char *path, const char *prop)
{
    QObject *v = cpu_prop(qts, path, prop);
    QBool *b = qobject_to(QBool, v);
    bool ret;

    g_assert(b);
    ret = qbool_get_bool(b);
    qobject_unref(v);
    return ret;
}

static void test_properties(void)
{
    QTestState *qts;
    g_autofree char *path = NULL;
    QObject *v;

    qts = qtest_init("-machine pc -cpu qemu64,hv-vpindex=on,hv-synic=on,"
                     "hv-time=on,hv-stimer=on,hv-spinlocks=0x1fff,"
                     "hv-vendor-id=OurVendorId");
    path = first_cpu_path(qts);
    g_assert_true(cpu_prop_bool(qts, path, "hv-vpindex"));
    g_assert_true(cpu_prop_bool(qts, path, "hv-synic"));
    g_assert_true(cpu_prop_bool(qts, path, "hv-stimer"));
    g_assert_false(cpu_prop_bool(qts, path, "hv-relaxed"));
    g_assert_false(cpu_prop_bool(qts, path, "hv-passthrough"));

    v = cpu_prop(qts, path, "hv-spinlocks");
    g_assert_cmpint(qnum_get_int(qobject_to(QNum, v)), ==, 0x1fff);
    qobject_unref(v);
    v = cpu_prop(qts, path, "hv-vendor-id");
    g_assert_cmpstr(qstring_get_str(qobject_to(QString, v)), ==,
                    "OurVendorId");
    qobject_unref(v);
    qtest_quit(qts);
}

/* The spellings with '_' that kvm-unit-tests and old scripts use. */
static void test_legacy_spelling(void)
{
    QTestState *qts;
    g_autofree char *path = NULL;

    qts = qtest_init("-machine pc -cpu kvm64,hv_vpindex,hv_synic,hv_time,"
                     "hv_stimer -smp 2");
    path = first_cpu_path(qts);
    g_assert_true(cpu_prop_bool(qts, path, "hv-vpindex"));
    g_assert_true(cpu_prop_bool(qts, path, "hv-synic"));
    g_assert_true(cpu_prop_bool(qts, path, "hv-time"));
    g_assert_true(cpu_prop_bool(qts, path, "hv-stimer"));
    qtest_quit(qts);
}

/*
 * Start QEMU with @args (which name the accelerator), send it the QMP
 * commands @qmp on its standard input, and return its stderr.  *@status
 * gets its wait status and, if @stdout_text is not NULL, *@stdout_text
 * what it answered.
 */
static char *run_qemu(const char *args, const char *qmp, int *status,
                      char **stdout_text)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *cmd = NULL;
    char *out = NULL;
    g_autoptr(GError) gerr = NULL;
    char *err = NULL;
    char *argv[] = { (char *)"/bin/sh", (char *)"-c", NULL, NULL };

    g_assert(qemu);
    cmd = g_strdup_printf("printf '%%s' '{\"execute\":\"qmp_capabilities\"}"
                          "%s{\"execute\":\"quit\"}' | %s -machine pc "
                          "-display none -nodefaults -qmp stdio %s",
                          qmp, qemu, args);
    argv[2] = cmd;
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, status, &gerr));
    g_test_message("command: %s", cmd);
    g_test_message("wait status: %d, stdout: %s", *status, out);
    g_test_message("stderr: %s", err);
    if (stdout_text) {
        *stdout_text = out;
    } else {
        g_free(out);
    }
    return err;
}

/*
 * Start QEMU with @args and expect it to refuse: a non-zero exit and
 * @error on stderr.  Should it start, the QMP commands on its standard
 * input make it quit at once, so the test fails instead of hanging.
 */
static void expect_start_failure(const char *args, const char *error)
{
    int status;
    g_autofree char *all = g_strdup_printf("-accel qtest %s", args);
    g_autofree char *err = run_qemu(all, "", &status, NULL);

    /* A refused configuration is exit(1), never a crash or a hang. */
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert_nonnull(strstr(err, error));
}

typedef struct DepCase {
    const char *name;
    const char *cpu;
    const char *error;
} DepCase;

static const DepCase dep_cases[] = {
    { "synic-needs-vpindex", "qemu64,hv-synic=on",
      "hv-synic requires hv-vpindex" },
    { "synic-needs-vpindex-legacy-spelling", "kvm64,hv_synic",
      "hv-synic requires hv-vpindex" },
    { "stimer-needs-synic", "qemu64,hv-vpindex,hv-time,hv-stimer",
      "hv-stimer requires hv-synic" },
    { "stimer-needs-time", "qemu64,hv-vpindex,hv-synic,hv-stimer",
      "hv-stimer requires hv-time" },
    { "stimer-direct-needs-stimer", "qemu64,hv-stimer-direct",
      "hv-stimer-direct requires hv-stimer" },
    { "ipi-needs-vpindex", "qemu64,hv-ipi", "hv-ipi requires hv-vpindex" },
    { "tlbflush-needs-vpindex", "qemu64,hv-tlbflush",
      "hv-tlbflush requires hv-vpindex" },
    { "tlbflush-ext-needs-tlbflush", "qemu64,hv-vpindex,hv-tlbflush-ext",
      "hv-tlbflush-ext requires hv-tlbflush" },
    { "syndbg-needs-relaxed", "qemu64,hv-vpindex,hv-synic,hv-syndbg",
      "hv-syndbg requires hv-relaxed" },
};

static void test_dependency(const void *opaque)
{
    const DepCase *c = opaque;
    g_autofree char *args = g_strdup_printf("-cpu %s", c->cpu);

    expect_start_failure(args, c->error);
}

/*
 * Without KVM (here: qtest; for guests: TCG) QEMU emulates Hyper-V itself.
 * A feature it does not implement is accepted, so that libvirt's Hyper-V
 * set starts, but not offered to the guest: one warning names it, and the
 * CPU property still reads "on", which libvirt checks after start-up.
 * (QEMU 10.0.2 ignored every hv-* option here; this tree refused these
 * until libvirt's Windows domain showed that a refusal stops it.)
 */
#define NOT_OFFERED " not offered to the guest: QEMU's own Hyper-V " \
                    "emulation (QTest) does not implement "

typedef struct AcceptCase {
    const char *name;
    const char *cpu;
    const char *prop;
    const char *warning;
} AcceptCase;

static const AcceptCase user_path_accepts[] = {
    { "vapic", "qemu64,hv-vapic", "hv-vapic",
      "Hyper-V feature hv-vapic is" NOT_OFFERED "it" },
    { "tlbflush", "qemu64,hv-vpindex,hv-tlbflush", "hv-tlbflush",
      "Hyper-V feature hv-tlbflush is" NOT_OFFERED "it" },
    { "reenlightenment-evmcs", "qemu64,hv-vapic,hv-reenlightenment,hv-evmcs",
      "hv-evmcs", "Hyper-V features hv-vapic, hv-reenlightenment, hv-evmcs "
      "are" NOT_OFFERED "them" },
    { "syndbg", "qemu64,hv-relaxed,hv-vpindex,hv-synic,hv-syndbg",
      "hv-syndbg", "Hyper-V feature hv-syndbg is" NOT_OFFERED "it" },
    { "xmm-input", "qemu64,hv-xmm-input", "hv-xmm-input",
      "Hyper-V feature hv-xmm-input is" NOT_OFFERED "it" },
};

static void test_user_path_accepts(const void *opaque)
{
    const AcceptCase *c = opaque;
    g_autofree char *args = g_strdup_printf("-accel qtest -cpu %s", c->cpu);
    g_autofree char *qmp = g_strdup_printf(
        "{\"execute\":\"qom-get\",\"arguments\":{\"path\":"
        "\"/machine/unattached/device[0]\",\"property\":\"%s\"}}",
        c->prop);
    int status;
    g_autofree char *out = NULL;
    g_autofree char *err = run_qemu(args, qmp, &status, &out);
    const char *first = strstr(err, "warning: Hyper-V");

    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_assert_nonnull(strstr(err, c->warning));
    /* The property libvirt reads back after start-up says "on". */
    g_assert_nonnull(strstr(out, "{\"return\": true}"));
    /* Once per process, not once per vCPU. */
    g_assert_null(strstr(first + 1, "warning: Hyper-V"));
}

/* The same with hv-ipi, which every path implements: no warning. */
static void test_user_path_ipi(void)
{
    int status;
    g_autofree char *err = run_qemu("-accel qtest -smp 2 "
                                    "-cpu qemu64,hv-vpindex,hv-ipi",
                                    "", &status, NULL);

    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_assert_null(strstr(err, "warning"));
}

/* hv-passthrough on the user path: every feature the path implements. */
static void test_user_path_passthrough(void)
{
    static const char *const on[] = {
        "hv-relaxed", "hv-vpindex", "hv-runtime", "hv-time", "hv-crash",
        "hv-reset", "hv-synic", "hv-stimer", "hv-stimer-direct",
        "hv-frequencies", "hv-ipi", "hv-avic",
    };
    /* hv-vapic and hv-tlbflush need TCG's APIC and TLBs; qtest has none. */
    static const char *const off[] = {
        "hv-vapic", "hv-tlbflush", "hv-evmcs", "hv-syndbg",
    };
    QTestState *qts = qtest_init("-machine pc -cpu qemu64,hv-passthrough");
    g_autofree char *path = first_cpu_path(qts);
    int i;

    for (i = 0; i < ARRAY_SIZE(on); i++) {
        g_assert_true(cpu_prop_bool(qts, path, on[i]));
    }
    for (i = 0; i < ARRAY_SIZE(off); i++) {
        g_assert_false(cpu_prop_bool(qts, path, off[i]));
    }
    qtest_quit(qts);
}

/*
 * query-cpu-model-expansion, as libvirt asks it for its domain
 * capabilities: with hv-passthrough, the hv-* features that this QEMU
 * emulates on the accelerator, under qtest and under TCG (which adds
 * hv-vapic, hv-tlbflush and hv-xmm-input).
 */
typedef struct ExpandCase {
    const char *name;
    const char *accel;
    const char *on;
    const char *off;
} ExpandCase;

#define EXPAND_COMMON "hv-relaxed hv-vpindex hv-runtime hv-time hv-crash " \
                      "hv-reset hv-synic hv-stimer hv-stimer-direct " \
                      "hv-frequencies hv-ipi hv-avic"

static const ExpandCase expand_cases[] = {
    { "qtest", "qtest", EXPAND_COMMON,
      "hv-vapic hv-tlbflush hv-evmcs hv-syndbg hv-xmm-input "
      "hv-reenlightenment hv-tlbflush-ext hv-tlbflush-direct" },
    { "tcg", "tcg", EXPAND_COMMON " hv-vapic hv-tlbflush hv-xmm-input",
      "hv-evmcs hv-syndbg hv-reenlightenment hv-tlbflush-ext "
      "hv-tlbflush-direct" },
};

static void expect_props(const char *out, const char *names, bool on)
{
    g_auto(GStrv) v = g_strsplit(names, " ", -1);

    for (int i = 0; v[i]; i++) {
        g_autofree char *want = g_strdup_printf("\"%s\": %s", v[i],
                                                on ? "true" : "false");

        g_test_message("expect %s", want);
        g_assert_nonnull(strstr(out, want));
    }
}

static void test_model_expansion(const void *opaque)
{
    const ExpandCase *c = opaque;
    g_autofree char *args = g_strdup_printf("-accel %s", c->accel);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status;

    err = run_qemu(args, "{\"execute\":\"query-cpu-model-expansion\","
                   "\"arguments\":{\"type\":\"full\",\"model\":"
                   "{\"name\":\"qemu64\",\"props\":"
                   "{\"hv-passthrough\":true}}}}", &status, &out);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    expect_props(out, c->on, true);
    expect_props(out, c->off, false);
}

/* Machine types before 3.1 allowed a SynIC without VP indices. */
static void test_synic_kvm_only(void)
{
    QTestState *qts;
    g_autofree char *path = NULL;

    qts = qtest_init("-machine pc -cpu qemu64,hv-synic,x-hv-synic-kvm-only=on");
    path = first_cpu_path(qts);
    g_assert_true(cpu_prop_bool(qts, path, "hv-synic"));
    g_assert_false(cpu_prop_bool(qts, path, "hv-vpindex"));
    qtest_quit(qts);
}

/*
 * This used to print "VMBus requires usable Hyper-V SynIC and VP_INDEX" and
 * realize the bridge anyway; now QEMU refuses to start.
 */
static void test_vmbus_bridge_needs_synic(void)
{
    g_assert_true(qtest_has_device("vmbus-bridge"));
    expect_start_failure("-device vmbus-bridge",
                         "vmbus-bridge requires Hyper-V SynIC and VP_INDEX");
}

/*
 * query-vmbus before the guest connects: the bus is disconnected, and its
 * devices are listed in the order of their relids, each channel new
 * (offered only once the guest asks).  vmbus-echo's instance GUID is a
 * name-based one of its QOM path, so the same on every start.
 */
static void test_query_vmbus(void)
{
    QTestState *qts = qtest_init("-machine pc "
                                 "-cpu qemu64,hv-vpindex=on,hv-synic=on "
                                 "-device vmbus-bridge "
                                 "-device hv-balloon,id=balloon "
                                 "-device vmbus-echo,id=echo");
    QDict *resp, *info, *dev, *chan;
    QList *devs, *chans;
    char *hmp, *instance;

    resp = qtest_qmp(qts, "{'execute': 'query-vmbus'}");
    g_assert(qdict_haskey(resp, "return"));
    info = qdict_get_qdict(resp, "return");
    g_assert_cmpstr(qdict_get_str(info, "state"), ==, "disconnected");
    g_assert_false(qdict_haskey(info, "version"));
    g_assert_cmpint(qdict_get_int(info, "gpadls"), ==, 0);
    g_assert_cmpint(qdict_get_int(info, "messages-queued"), ==, 0);
    devs = qdict_get_qlist(info, "devices");
    g_assert_cmpint(qlist_size(devs), ==, 2);

    dev = qobject_to(QDict, qlist_peek(devs));
    g_assert_cmpstr(qdict_get_str(dev, "type"), ==, "hv-balloon");
    g_assert_cmpstr(qdict_get_str(dev, "qom-path"), ==,
                    "/machine/peripheral/balloon");
    g_assert_cmpstr(qdict_get_str(dev, "class-id"), ==,
                    "525074dc-8985-46e2-8057-a307dc18a502");
    chans = qdict_get_qlist(dev, "channels");
    g_assert_cmpint(qlist_size(chans), ==, 1);
    chan = qobject_to(QDict, qlist_peek(chans));
    g_assert_cmpint(qdict_get_int(chan, "relid"), ==, 1);
    g_assert_cmpint(qdict_get_int(chan, "index"), ==, 0);
    g_assert_cmpstr(qdict_get_str(chan, "state"), ==, "new");
    g_assert_false(qdict_get_bool(chan, "rescinded"));
    g_assert_false(qdict_haskey(chan, "target-vp"));

    dev = qobject_to(QDict, qlist_entry_obj(qlist_next(qlist_first(devs))));
    g_assert_cmpstr(qdict_get_str(dev, "type"), ==, "vmbus-echo");
    g_assert_cmpstr(qdict_get_str(dev, "class-id"), ==,
                    "b6d1f2a4-4c7e-4a8b-9e31-5f0c2d7a8e63");
    instance = g_strdup(qdict_get_str(dev, "instance-id"));
    chan = qobject_to(QDict, qlist_peek(qdict_get_qlist(dev, "channels")));
    g_assert_cmpint(qdict_get_int(chan, "relid"), ==, 2);

    hmp = qtest_hmp(qts, "info vmbus");
    g_assert_nonnull(strstr(hmp, "VMBus: disconnected"));
    g_assert_nonnull(strstr(hmp, "hv-balloon (/machine/peripheral/balloon)"));
    g_assert_nonnull(strstr(hmp, "channel 0: relid 2, new"));
    g_assert_nonnull(strstr(hmp, instance));
    g_free(hmp);
    qobject_unref(resp);
    qtest_quit(qts);

    /* The same instance GUID on the next start. */
    qts = qtest_init("-machine pc -cpu qemu64,hv-vpindex=on,hv-synic=on "
                     "-device vmbus-bridge -device hv-balloon,id=balloon "
                     "-device vmbus-echo,id=echo");
    hmp = qtest_hmp(qts, "info vmbus");
    g_assert_nonnull(strstr(hmp, instance));
    g_free(hmp);
    g_free(instance);
    qtest_quit(qts);
}

/* Without a vmbus-bridge, query-vmbus and info vmbus say so. */
static void test_query_vmbus_absent(void)
{
    QTestState *qts = qtest_init("-machine pc");
    QDict *resp = qtest_qmp(qts, "{'execute': 'query-vmbus'}");
    char *hmp;

    g_assert(qdict_haskey(resp, "error"));
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(resp, "error"),
                                          "desc"), "vmbus-bridge"));
    qobject_unref(resp);
    hmp = qtest_hmp(qts, "info vmbus");
    g_assert_nonnull(strstr(hmp, "no vmbus-bridge"));
    g_free(hmp);
    qtest_quit(qts);
}

/*
 * The integration services before a guest binds them: QOM shows them
 * closed, hv-shutdown-guest refuses (nothing to ask), system_powerdown
 * goes to ACPI as without the service (one POWERDOWN event, QEMU runs
 * on), and a second device of a kind, or a heartbeat period of 0, is
 * refused.
 */
static void test_ic_unbound(void)
{
    QTestState *qts = qtest_init("-machine pc "
                                 "-cpu qemu64,hv-vpindex=on,hv-synic=on "
                                 "-device vmbus-bridge "
                                 "-device hv-shutdown,id=sd "
                                 "-device hv-heartbeat,id=hb");
    QDict *resp;
    const char *desc;

    resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                     "{'path': '/machine/peripheral/sd', "
                     "'property': 'state'}}");
    g_assert_cmpstr(qdict_get_str(resp, "return"), ==, "closed");
    qobject_unref(resp);
    resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                     "{'path': '/machine/peripheral/hb', "
                     "'property': 'last-answer-age-ms'}}");
    g_assert_cmpint(qdict_get_int(resp, "return"), ==, -1);
    qobject_unref(resp);

    resp = qtest_qmp(qts, "{'execute': 'hv-shutdown-guest', 'arguments': "
                     "{'action': 'reboot'}}");
    desc = qdict_get_str(qdict_get_qdict(resp, "error"), "desc");
    g_assert_nonnull(strstr(desc, "has not bound"));
    qobject_unref(resp);

    qtest_qmp_assert_success(qts, "{'execute': 'system_powerdown'}");
    qtest_qmp_eventwait(qts, "POWERDOWN");
    resp = qtest_qmp(qts, "{'execute': 'query-status'}");
    g_assert_true(qdict_get_bool(qdict_get_qdict(resp, "return"), "running"));
    qobject_unref(resp);
    qtest_quit(qts);
}

static void test_ic_refused(void)
{
    static const char *const cmd[][2] = {
        { "-device hv-heartbeat -device hv-heartbeat", "only one" },
        { "-device hv-heartbeat,period-ms=0", "period-ms must not be 0" },
        { "-device hv-shutdown -device hv-shutdown", "only one" },
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(cmd); i++) {
        g_autofree char *args = g_strdup_printf(
            "-cpu qemu64,hv-vpindex,hv-synic -device vmbus-bridge %s",
            cmd[i][0]);

        expect_start_failure(args, cmd[i][1]);
    }
}

/* Without a shutdown service there is nobody to ask. */
static void test_ic_no_device(void)
{
    QTestState *qts = qtest_init("-machine pc");
    QDict *resp = qtest_qmp(qts, "{'execute': 'hv-shutdown-guest', "
                            "'arguments': {'action': 'poweroff'}}");

    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(resp, "error"),
                                          "desc"), "no hv-shutdown"));
    qobject_unref(resp);
    qtest_quit(qts);
}

/*
 * vmbus-bridge,integration-services=on: the four services on the bus, in
 * this order; KVP before a guest binds it: query-hv-kvp shows it closed
 * with nothing read, hv-kvp-set refuses, and so does a pool the host
 * does not write.  One more of the set beside it is refused.
 */
static void test_ic_standard_set(void)
{
    static const char *const types[] = {
        "hv-shutdown", "hv-heartbeat", "hv-timesync", "hv-kvp",
    };
    QTestState *qts = qtest_init("-machine pc "
                                 "-cpu qemu64,hv-vpindex=on,hv-synic=on "
                                 "-device vmbus-bridge,integration-services=on");
    QDict *resp, *ret;
    QList *devs;
    QListEntry *e;
    const char *desc;
    int i = 0;

    resp = qtest_qmp(qts, "{'execute': 'query-vmbus'}");
    devs = qdict_get_qlist(qdict_get_qdict(resp, "return"), "devices");
    QLIST_FOREACH_ENTRY(devs, e) {
        QDict *d = qobject_to(QDict, qlist_entry_obj(e));

        g_assert_cmpint(i, <, ARRAY_SIZE(types));
        g_assert_cmpstr(qdict_get_str(d, "type"), ==, types[i]);
        i++;
    }
    g_assert_cmpint(i, ==, ARRAY_SIZE(types));
    qobject_unref(resp);

    resp = qtest_qmp(qts, "{'execute': 'query-hv-kvp'}");
    ret = qdict_get_qdict(resp, "return");
    g_assert_cmpstr(qdict_get_str(ret, "state"), ==, "closed");
    g_assert_false(qdict_haskey(ret, "version"));
    g_assert_cmpint(qdict_get_int(ret, "readings"), ==, 0);
    g_assert_cmpint(qdict_get_int(ret, "age-ms"), ==, -1);
    g_assert_true(qlist_empty(qdict_get_qlist(ret, "items")));
    qobject_unref(resp);

    resp = qtest_qmp(qts, "{'execute': 'hv-kvp-set', 'arguments': "
                     "{'key': 'k', 'value': 'v'}}");
    desc = qdict_get_str(qdict_get_qdict(resp, "error"), "desc");
    g_assert_nonnull(strstr(desc, "has not bound"));
    qobject_unref(resp);
    resp = qtest_qmp(qts, "{'execute': 'hv-kvp-delete', 'arguments': "
                     "{'key': 'k', 'pool': 'auto'}}");
    desc = qdict_get_str(qdict_get_qdict(resp, "error"), "desc");
    g_assert_nonnull(strstr(desc, "writes only the pools"));
    qobject_unref(resp);
    qtest_quit(qts);

    expect_start_failure("-cpu qemu64,hv-vpindex,hv-synic "
                         "-device vmbus-bridge,integration-services=on "
                         "-device hv-kvp", "only one");
}

/* hv-kvp alone, hot-plugged while the VM runs. */
static void test_ic_kvp_hotplug(void)
{
    QTestState *qts = qtest_init("-machine pc "
                                 "-cpu qemu64,hv-vpindex=on,hv-synic=on "
                                 "-device vmbus-bridge");
    QDict *resp;

    resp = qtest_qmp(qts, "{'execute': 'query-hv-kvp'}");
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(resp, "error"),
                                          "desc"), "no hv-kvp"));
    qobject_unref(resp);
    qtest_qmp_assert_success(qts, "{'execute': 'device_add', 'arguments': "
                             "{'driver': 'hv-kvp', 'id': 'kvp'}}");
    resp = qtest_qmp(qts, "{'execute': 'query-hv-kvp'}");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(resp, "return"), "state"),
                    ==, "closed");
    qobject_unref(resp);
    qtest_quit(qts);
}

/* -device hyperv-testdev shows up in the QOM tree with its type. */
static void test_testdev_qom(void)
{
    QTestState *qts = qtest_init("-machine pc "
                                 "-device hyperv-testdev,id=hvtest");
    QDict *resp;

    resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments':"
                     " {'path': '/machine/peripheral/hvtest',"
                     "  'property': 'type'}}");
    g_assert(qdict_haskey(resp, "return"));
    g_assert_cmpstr(qdict_get_str(resp, "return"), ==, "hyperv-testdev");
    qobject_unref(resp);
    qtest_quit(qts);
}

/*
 * hyperv-testdev takes commands from the guest at I/O port 0x3000.  This
 * used to abort QEMU on a command naming a missing vCPU, route or
 * connection.  Without a SynIC (no KVM here) every route is refused; the
 * device must log, refuse and go on, whatever the guest writes.
 */
static void test_testdev_bogus_commands(void)
{
    QTestState *qts = qtest_init("-machine pc -device hyperv-testdev");
    uint32_t cmd, vp, i;
    QDict *resp;

    for (cmd = 0; cmd < 256; cmd++) {
        for (i = 0; i < 4; i++) {
            vp = (i & 1) ? 255 : 0;
            /* bits 7:0 SINT, 15:8 VP index, 23:16 command, 31:24 conn */
            qtest_outl(qts, 0x3000, (i * 0x41) | vp << 8 | cmd << 16 |
                       (i * 0x3f) << 24);
        }
    }
    qtest_outl(qts, 0x3000, 0xffffffff);
    g_assert_cmpint(qtest_inl(qts, 0x3000), ==, 0);
    resp = qtest_qmp(qts, "{'execute': 'query-status'}");
    g_assert(qdict_haskey(resp, "return"));
    qobject_unref(resp);
    qtest_quit(qts);
}

/*
 * QEMU's own Hyper-V traps hypercalls at I/O ports 0x5c-0x5f.  A device
 * the user puts there used to shadow them (or be shadowed) silently; now
 * QEMU refuses to start and names the device.
 */
static void test_hcall_port_conflict(void)
{
    expect_start_failure("-cpu qemu64,hv-vpindex,hv-synic "
                         "-device isa-debug-exit,iobase=0x5e,iosize=1",
                         "I/O port 0x5e is taken by 'isa-debug-exit'");
}

/*
 * hyperv-testdev's commands: bits 7:0 SINT, 15:8 VP, 23:16 command,
 * 31:24 connection.
 */
enum {
    TESTDEV_ROUTE_CREATE = 1,
    TESTDEV_ROUTE_DESTROY,
    TESTDEV_ROUTE_SET_SINT,
    TESTDEV_MSG_CONN_CREATE,
    TESTDEV_MSG_CONN_DESTROY,
};

/* The CPU hotplug registers of pc (docs/specs/acpi_cpu_hotplug.rst). */
#define CPUHP_BASE          0xaf00
#define CPUHP_SELECTOR      0x0     /* dword: which CPU */
#define CPUHP_FLAGS         0x4     /* byte */
#define CPUHP_FLAG_EJECT    0x08

/* A command word for hyperv-testdev (above), connection 0 */
#define TESTDEV_CMD(cmd, vp, sint)  ((sint) | (vp) << 8 | (cmd) << 16)

/* What the guest's ACPI code does for an unplug: eject the CPU. */
static void eject_cpu(QTestState *qts, uint32_t cpu)
{
    qtest_outl(qts, CPUHP_BASE + CPUHP_SELECTOR, cpu);
    qtest_outb(qts, CPUHP_BASE + CPUHP_FLAGS, CPUHP_FLAG_EJECT);
}

/*
 * Unplug a vCPU with a SynIC while a device still holds a route to it,
 * use the route, then plug the same vCPU in again, twice.  This used to
 * abort QEMU at the re-plug ("RAMBlock ... already registered"): the
 * SynIC's pages outlived the vCPU, and routes pointed at a SynIC they held
 * no reference to.
 */
static void test_synic_cpu_replug(void)
{
    QTestState *qts = qtest_init("-machine pc -smp 1,maxcpus=2 "
                                 "-cpu qemu64,hv-vpindex,hv-synic "
                                 "-device hyperv-testdev");
    QDict *resp;
    int i;

    /* The guest switches the hotplug interface to its modern form. */
    qtest_outl(qts, CPUHP_BASE, 0);
    for (i = 0; i < 3; i++) {
        qtest_qmp_assert_success(qts, "{'execute': 'device_add', "
                                 "'arguments': {"
                                 "'driver': 'qemu64-x86_64-cpu', "
                                 "'id': 'cpu1', 'socket-id': 0, "
                                 "'core-id': 1, 'thread-id': 0}}");
        qtest_outl(qts, 0x3000, TESTDEV_CMD(TESTDEV_ROUTE_CREATE, 1, 2));
        qtest_qmp_assert_success(qts, "{'execute': 'device_del', "
                                 "'arguments': {'id': 'cpu1'}}");
        eject_cpu(qts, 1);
        qtest_qmp_eventwait(qts, "DEVICE_DELETED");
        /* The route outlives its vCPU: raising it does nothing. */
        qtest_outl(qts, 0x3000, TESTDEV_CMD(TESTDEV_ROUTE_SET_SINT, 1, 2));
        qtest_outl(qts, 0x3000, TESTDEV_CMD(TESTDEV_ROUTE_DESTROY, 1, 2));
    }
    resp = qtest_qmp(qts, "{'execute': 'query-status'}");
    g_assert(qdict_haskey(resp, "return"));
    qobject_unref(resp);
    qtest_quit(qts);
}


typedef struct TestdevStep {
    uint8_t cmd, vp, sint, conn;
    bool ok;
} TestdevStep;

/*
 * With hv-synic on (QEMU's own SynIC under qtest, as under TCG) the test
 * device's routes are real: each holds the SINT's interrupt source, which
 * all routes to one (VP, SINT) share.  The device's trace says which
 * commands it took; the SynIC's says when a source came and went, and the
 * user path's that a raise on a masked SINT (every SINT after reset) was
 * dropped rather than delivered.
 */
static const TestdevStep testdev_steps[] = {
    { TESTDEV_ROUTE_CREATE, 0, 2, 0, true },
    { TESTDEV_ROUTE_CREATE, 0, 2, 0, false },     /* exists already */
    { TESTDEV_ROUTE_CREATE, 1, 2, 0, true },      /* the other vCPU */
    { TESTDEV_ROUTE_CREATE, 2, 2, 0, false },     /* no VP 2 */
    { TESTDEV_ROUTE_CREATE, 0, 16, 0, false },    /* no SINT 16 */
    { TESTDEV_ROUTE_SET_SINT, 0, 2, 0, true },
    { TESTDEV_MSG_CONN_CREATE, 0, 2, 5, true },   /* shares VP 0 SINT 2 */
    { TESTDEV_ROUTE_DESTROY, 0, 2, 0, true },
    { TESTDEV_ROUTE_DESTROY, 0, 2, 0, false },    /* gone already */
    { TESTDEV_MSG_CONN_DESTROY, 0, 0, 5, true },  /* last user of SINT 2 */
    { TESTDEV_ROUTE_DESTROY, 1, 2, 0, true },
};

/* How many lines of @log contain @needle. */
static unsigned count_lines(char **log, const char *needle)
{
    unsigned n = 0;

    for (; *log; log++) {
        n += strstr(*log, needle) != NULL;
    }
    return n;
}

static void test_testdev_synic_routes(void)
{
    g_autofree char *log_path = NULL, *text = NULL;
    g_auto(GStrv) lines = NULL;
    QTestState *qts;
    unsigned i, seen = 0;
    int fd;

    fd = g_file_open_tmp("hyperv-test-XXXXXX.log", &log_path, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    qts = qtest_initf("-machine pc -smp 2 "
                      "-cpu qemu64,hv-vpindex=on,hv-synic=on "
                      "-device hyperv-testdev -D %s "
                      "-trace hyperv_testdev_command "
                      "-trace hyperv_sint_source -trace hv_emu_sint_dropped",
                      log_path);
    for (i = 0; i < ARRAY_SIZE(testdev_steps); i++) {
        const TestdevStep *t = &testdev_steps[i];

        qtest_outl(qts, 0x3000, t->sint | t->vp << 8 | t->cmd << 16 |
                   (uint32_t)t->conn << 24);
    }
    qtest_quit(qts);

    g_assert_true(g_file_get_contents(log_path, &text, NULL, NULL));
    unlink(log_path);
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        const TestdevStep *t;
        g_autofree char *want = NULL;

        if (!strstr(lines[i], "hyperv_testdev_command ")) {
            continue;
        }
        g_assert_cmpuint(seen, <, ARRAY_SIZE(testdev_steps));
        t = &testdev_steps[seen++];
        want = g_strdup_printf("command %u VP %u SINT %u connection %u: "
                               "ok %d", t->cmd, t->vp, t->sint, t->conn,
                               t->ok);
        g_assert_nonnull(strstr(lines[i], want));
    }
    g_assert_cmpuint(seen, ==, ARRAY_SIZE(testdev_steps));
    /* one source per (VP, SINT), made by its first route, freed by its last */
    g_assert_cmpuint(count_lines(lines, "VP 0 SINT 2: handle 2 add 1"), ==, 1);
    g_assert_cmpuint(count_lines(lines, "VP 0 SINT 2: handle 2 add 0"), ==, 1);
    g_assert_cmpuint(count_lines(lines, "VP 1 SINT 2: handle 18 add 1"), ==,
                     1);
    g_assert_cmpuint(count_lines(lines, "VP 1 SINT 2: handle 18 add 0"), ==,
                     1);
    g_assert_cmpuint(count_lines(lines, "hyperv_sint_source "), ==, 4);
    /* the raise on the masked SINT was dropped, not delivered */
    g_assert_cmpuint(count_lines(lines, "hv_emu_sint_dropped VP 0 SINT 2 "),
                     ==, 1);
}

int main(int argc, char **argv)
{
    int i;

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/hyperv/cpu/properties", test_properties);
    qtest_add_func("/hyperv/cpu/legacy-spelling", test_legacy_spelling);
    for (i = 0; i < ARRAY_SIZE(dep_cases); i++) {
        g_autofree char *name = g_strdup_printf("/hyperv/cpu/deps/%s",
                                                dep_cases[i].name);

        qtest_add_data_func(name, &dep_cases[i], test_dependency);
    }
    qtest_add_func("/hyperv/cpu/deps/synic-kvm-only", test_synic_kvm_only);
    for (i = 0; i < ARRAY_SIZE(user_path_accepts); i++) {
        g_autofree char *name =
            g_strdup_printf("/hyperv/cpu/user-path/accepts-%s",
                            user_path_accepts[i].name);

        qtest_add_data_func(name, &user_path_accepts[i],
                            test_user_path_accepts);
    }
    qtest_add_func("/hyperv/cpu/user-path/ipi", test_user_path_ipi);
    for (i = 0; i < ARRAY_SIZE(expand_cases); i++) {
        g_autofree char *name =
            g_strdup_printf("/hyperv/cpu/user-path/expansion-%s",
                            expand_cases[i].name);

        qtest_add_data_func(name, &expand_cases[i], test_model_expansion);
    }
    qtest_add_func("/hyperv/cpu/user-path/passthrough",
                   test_user_path_passthrough);
    qtest_add_func("/hyperv/vmbus-bridge/needs-synic",
                   test_vmbus_bridge_needs_synic);
    qtest_add_func("/hyperv/vmbus/query", test_query_vmbus);
    qtest_add_func("/hyperv/vmbus/query-without-bridge",
                   test_query_vmbus_absent);
    qtest_add_func("/hyperv/ic/unbound", test_ic_unbound);
    qtest_add_func("/hyperv/ic/refused", test_ic_refused);
    qtest_add_func("/hyperv/ic/no-device", test_ic_no_device);
    qtest_add_func("/hyperv/ic/standard-set", test_ic_standard_set);
    qtest_add_func("/hyperv/ic/kvp-hotplug", test_ic_kvp_hotplug);
    qtest_add_func("/hyperv/testdev/qom", test_testdev_qom);
    qtest_add_func("/hyperv/testdev/bogus-commands",
                   test_testdev_bogus_commands);
    qtest_add_func("/hyperv/synic/cpu-replug", test_synic_cpu_replug);
    qtest_add_func("/hyperv/cpu/user-path/hcall-port-conflict",
                   test_hcall_port_conflict);
    qtest_add_func("/hyperv/testdev/synic-routes",
                   test_testdev_synic_routes);
    return g_test_run();
}
