/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The layered registry: resolution, conflicts between layers, suggestions. */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "portcullis/registry.h"

struct fixture {
	struct pc_registry *reg;
	struct pc_resolution res;
	struct pc_diags diags;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->reg = pc_registry_create();
	pc_resolution_init(&f->res);
	pc_diags_init(&f->diags);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pc_resolution_finish(&f->res);
	pc_diags_finish(&f->diags);
	pc_registry_destroy(f->reg);
	free(f);
	return 0;
}

static void with_services(struct fixture *f)
{
	assert_int_equal(pc_registry_load_services(
					 f->reg, src_path("tests/data/services"), &f->diags),
			0);
	assert_int_equal(f->diags.n, 0);
}

static const struct pc_diag *finding(const struct fixture *f, const char *code)
{
	const struct pc_diag *d = find_diag(&f->res.findings, code);

	if (!d)
		fail_msg("no [%s] finding", code);
	return d;
}

static void test_krb5_prop_from_practice(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_resolve(f->reg, "krb5_prop", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.layer, PC_LAYER_PRACTICE);
	assert_int_equal(f->res.nports, 1);
	assert_int_equal(f->res.ports[0].lo, 754);
	assert_int_equal(f->res.ports[0].proto, PC_PROTO_TCP);
	assert_string_equal(f->res.ports[0].src.file, "data/practice.services");
	assert_true(f->res.ports[0].src.line > 0);
	const struct pc_diag *d = finding(f, "registry-conflict");
	assert_int_equal(d->sev, PC_SEV_WARNING);
	assert_string_equal(d->msg, "krb5_prop resolves to 754/tcp from the practice layer; IANA "
				    "assigns 754/tcp to \"tell\" (send)");
	assert_string_equal(d->file, "data/practice.services");
	/* The same disagreement, kept with the port for rule comments. */
	assert_string_equal(f->res.ports[0].iana, "tell");
}

static void test_krb5_prop_with_system_layer(void **state)
{
	struct fixture *f = *state;

	with_services(f);
	assert_int_equal(pc_registry_resolve(f->reg, "krb5_prop", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.layer, PC_LAYER_SYSTEM);
	assert_int_equal(f->res.ports[0].src.line, 10);
	assert_non_null(strstr(f->res.ports[0].src.file, "tests/data/services"));
	assert_string_equal(f->res.canonical, "krb-prop");
	/* Every layer's row is kept: practice and system. */
	assert_int_equal(f->res.rows.n, 2);
	assert_int_equal(f->res.rows.v[0].layer, PC_LAYER_PRACTICE);
	assert_int_equal(f->res.rows.v[1].layer, PC_LAYER_SYSTEM);
	assert_non_null(strstr(finding(f, "registry-conflict")->msg, "\"tell\""));
}

static void test_kerberos_protocols(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_resolve(f->reg, "kerberos", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.nports, 2);
	assert_int_equal(f->res.ports[0].proto, PC_PROTO_TCP);
	assert_int_equal(f->res.ports[1].proto, PC_PROTO_UDP);
	assert_int_equal(f->res.ports[0].lo, 88);
	assert_int_equal(f->res.findings.n, 0);
	pc_resolution_finish(&f->res);
	pc_resolution_init(&f->res);

	assert_int_equal(pc_registry_resolve(f->reg, "kpasswd", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.nports, 2);
	assert_int_equal(f->res.ports[1].lo, 464);
	/* The practice layer vouches for both protocols (kadmind serves both). */
	assert_int_equal(f->res.layer, PC_LAYER_PRACTICE);
	assert_int_equal(f->res.findings.n, 0);
}

/*
 * kadmind serves 749 over TCP only: the practice layer's `only` row leaves
 * IANA's 749/udp out, with a note that names its source, whether practice
 * decides or a services file does.
 */
static void test_kerberos_adm_tcp_only(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_resolve(f->reg, "kerberos-adm", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.layer, PC_LAYER_PRACTICE);
	assert_int_equal(f->res.nports, 1);
	assert_int_equal(f->res.ports[0].proto, PC_PROTO_TCP);
	assert_int_equal(f->res.ports[0].src.layer, PC_LAYER_PRACTICE);
	assert_true(f->res.ports[0].src.flags & PC_ENTRY_F_ONLY);
	assert_int_equal(f->res.findings.n, 1);
	const struct pc_diag *d = find_diag(&f->res.findings, "practice-only");
	assert_non_null(d);
	assert_int_equal(d->sev, PC_SEV_NOTE);
	assert_string_equal(d->file, "data/practice.services");
	assert_int_equal(d->line, f->res.ports[0].src.line);
	char want[160];
	snprintf(want, sizeof(want),
			"kerberos-adm: the iana layer's 749/udp is left out: the daemon serves 749/tcp "
			"only (the source: data/practice.services:%u, `portcullis lookup "
			"kerberos-adm`)",
			d->line);
	assert_string_equal(d->msg, want);
	pc_resolution_finish(&f->res);
	pc_resolution_init(&f->res);

	/* The services file lists 749/tcp and decides; IANA's 749/udp stays out. */
	with_services(f);
	assert_int_equal(pc_registry_resolve(f->reg, "kerberos-adm", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.layer, PC_LAYER_SYSTEM);
	assert_int_equal(f->res.nports, 1);
	assert_int_equal(f->res.ports[0].proto, PC_PROTO_TCP);
	assert_int_equal(f->res.ports[0].src.layer, PC_LAYER_SYSTEM);
	assert_non_null(find_diag(&f->res.findings, "practice-only"));
	assert_null(find_diag(&f->res.findings, "name-conflict"));
}

/* Without an `only` row, the layers below add their protocols: ssh 22/tcp (services file) gets
 * IANA's udp and sctp. */
static void test_lower_layers_add_protocols(void **state)
{
	struct fixture *f = *state;

	with_services(f);
	assert_int_equal(pc_registry_resolve(f->reg, "ssh", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.layer, PC_LAYER_SYSTEM);
	assert_int_equal(f->res.nports, 3);
	assert_int_equal(f->res.ports[1].proto, PC_PROTO_UDP);
	assert_int_equal(f->res.ports[1].src.layer, PC_LAYER_IANA);
	assert_int_equal(f->res.ports[2].proto, PC_PROTO_SCTP);
	assert_null(find_diag(&f->res.findings, "practice-only"));
}

static void test_kerberos_iv_conflicts(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_resolve(f->reg, "kerberos-iv", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.layer, PC_LAYER_PRACTICE);
	assert_string_equal(f->res.canonical, "kerberos4");
	assert_int_equal(f->res.nports, 2);
	assert_int_equal(count_diag(&f->res.findings, "registry-conflict"), 2);
	assert_non_null(strstr(f->res.findings.v[0].msg, "\"rfile\""));
	/* Every name IANA has on 750/udp, in registry order, its own name too. */
	assert_non_null(strstr(f->res.findings.v[1].msg,
			"IANA assigns 750/udp to \"loadav\", \"kerberos-iv\" (kerberos version iv)"));
}

static void test_contested_kdc(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_resolve(f->reg, "kdc", &f->res), PC_RESOLVE_CONTESTED);
	const struct pc_diag *d = finding(f, "contested");
	assert_int_equal(d->sev, PC_SEV_ERROR);
	assert_string_equal(d->hint, "use one of: kerberos,kerberos4");
	assert_int_equal(f->res.nports, 0);
	pc_resolution_finish(&f->res);
	pc_resolution_init(&f->res);

	/* A services file that maps kdc does not make it resolve silently. */
	with_services(f);
	assert_int_equal(pc_registry_resolve(f->reg, "kdc", &f->res), PC_RESOLVE_CONTESTED);
	pc_resolution_finish(&f->res);
	pc_resolution_init(&f->res);

	/* Only the user's own definition does. */
	assert_int_equal(pc_registry_add_override(
					 f->reg, "kdc=88/tcp,udp", "--define", 1, &f->diags),
			0);
	assert_int_equal(pc_registry_resolve(f->reg, "kdc", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.layer, PC_LAYER_OVERRIDE);
	assert_int_equal(f->res.ports[0].lo, 88);
	assert_int_equal(f->res.nports, 2);
	assert_non_null(find_diag(&f->res.findings, "name-conflict")); /* system: 750 */
}

/* A --define is the final word for its name: the layers below add no protocol. */
static void test_define_narrows(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_add_override(
					 f->reg, "kerberos-adm=749/tcp", "--define", 1, &f->diags),
			0);
	assert_int_equal(pc_registry_resolve(f->reg, "kerberos-adm", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.layer, PC_LAYER_OVERRIDE);
	assert_int_equal(f->res.nports, 1);
	assert_int_equal(f->res.ports[0].proto, PC_PROTO_TCP);
	const struct pc_diag *d = finding(f, "definition-replaces");
	assert_int_equal(d->sev, PC_SEV_NOTE);
	assert_string_equal(d->file, "--define");
	assert_int_equal(d->line, 1);
	assert_string_equal(d->msg, "kerberos-adm: the definition (749/tcp) replaces what the "
				    "iana layer says (749/tcp, 749/udp)");
	assert_null(find_diag(&f->res.findings, "name-conflict"));
}

/* kdc pinned to exactly the ports of kerberos is an alias of it, not a conflict. */
static void test_define_alias(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_add_override(
					 f->reg, "kdc=88/tcp,udp", "--define", 1, &f->diags),
			0);
	assert_int_equal(pc_registry_resolve(f->reg, "kdc", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.nports, 2);
	assert_null(find_diag(&f->res.findings, "registry-conflict"));
	const struct pc_diag *d = finding(f, "definition-alias");
	assert_int_equal(d->sev, PC_SEV_NOTE);
	assert_int_equal(d->line, 1);
	assert_string_equal(d->msg, "kdc: the definition (88/tcp, 88/udp) gives exactly the ports "
				    "of 'kerberos': an alias of it, no conflict");
	/* The comment still says what IANA calls the port. */
	assert_string_equal(f->res.ports[0].iana, "kerberos");
}

static void test_multi_port_name(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_resolve(f->reg, "npp", &f->res), PC_RESOLVE_AMBIGUOUS);
	const struct pc_diag *d = finding(f, "multi-port");
	assert_non_null(strstr(d->msg, "(92, 4045)"));
	assert_non_null(d->hint);
}

static void test_historic_alias(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_resolve(f->reg, "acmaint_dbd", &f->res), PC_RESOLVE_OK);
	const struct pc_diag *d = finding(f, "historic-alias");
	assert_string_equal(d->hint, "use 'acmaint-dbd'");
	assert_int_equal(d->line, 1526);
	assert_null(find_diag(&f->res.findings, "registry-conflict"));
}

static void test_reserved_and_unassigned_ports(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_add_override(
					 f->reg, "legacy=250/tcp", "policy.yaml", 7, &f->diags),
			0);
	assert_int_equal(pc_registry_add_override(
					 f->reg, "odd=796/udp", "policy.yaml", 8, &f->diags),
			0);
	assert_int_equal(pc_registry_resolve(f->reg, "legacy", &f->res), PC_RESOLVE_OK);
	const struct pc_diag *d = finding(f, "port-reserved");
	assert_string_equal(d->file, "policy.yaml");
	assert_int_equal(d->line, 7);
	pc_resolution_finish(&f->res);
	pc_resolution_init(&f->res);
	assert_int_equal(pc_registry_resolve(f->reg, "odd", &f->res), PC_RESOLVE_OK);
	finding(f, "port-unassigned");
	assert_non_null(strstr(finding(f, "unauthorized-use")->msg, "796/udp"));
}

static void test_named_reservation(void **state)
{
	struct fixture *f = *state;

	/* IANA lists stun-behaviors 5349/udp as "Reserved for a future enhancement". */
	assert_int_equal(pc_registry_resolve(f->reg, "stun-behaviors", &f->res), PC_RESOLVE_OK);
	const struct pc_diag *d = finding(f, "port-reserved");
	assert_non_null(strstr(d->msg, "5349/udp"));
	assert_null(strstr(d->msg, "5349/tcp"));
}

static void test_unauthorized_use_on_range_names_one_port(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_resolve(f->reg, "x11", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.ports[0].lo, 6000);
	assert_int_equal(f->res.ports[0].hi, 6063);
	const struct pc_diag *d = finding(f, "unauthorized-use");
	assert_non_null(strstr(d->msg, "6003/tcp, 6003/udp"));
}

static void test_no_port_name(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_resolve(f->reg, "argus", &f->res), PC_RESOLVE_NO_PORT);
	finding(f, "no-port");
}

static void test_case_folding(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_resolve(f->reg, "KERBEROS-ADM", &f->res), PC_RESOLVE_OK);
	assert_string_equal(f->res.canonical, "kerberos-adm");
	pc_resolution_finish(&f->res);
	pc_resolution_init(&f->res);
	assert_int_equal(pc_registry_resolve(f->reg, "Krb5", &f->res), PC_RESOLVE_OK);
	assert_string_equal(f->res.canonical, "kerberos");
}

static void test_unknown_and_suggestions(void **state)
{
	struct fixture *f = *state;
	const char *s[3];

	assert_int_equal(pc_registry_resolve(f->reg, "kerbros", &f->res), PC_RESOLVE_UNKNOWN);
	assert_int_equal(pc_registry_suggest(f->reg, "kerbros", s, 3), 3);
	assert_string_equal(s[0], "kerberos");
	assert_true(pc_registry_suggest(f->reg, "kpaswd", s, 3) >= 1);
	assert_string_equal(s[0], "kpasswd");
	/* Names of every layer count, the system layer's too. */
	with_services(f);
	size_t n = pc_registry_suggest(f->reg, "myyapp", s, 3);
	bool seen = false;
	for (size_t i = 0; i < n; i++)
		seen |= !strcmp(s[i], "myapp");
	assert_true(seen);
	assert_int_equal(pc_registry_suggest(f->reg, "zzzzzzzzzzzz", s, 3), 0);
}

/*
 * A daemon's name (a `daemon` row of the practice layer) never resolves; its
 * suggestions are the services it serves, every one of which resolves, and
 * it is never suggested for a name near it.
 */
static void test_daemon_suggestions(void **state)
{
	struct fixture *f = *state;
	const char *s[3];
	static const struct {
		const char *daemon, *want[3];
	} cases[] = {
			{"kadmind", {"kerberos-adm", "kpasswd"}},
			{"KPROPD", {"krb5_prop"}},
			{"kprop", {"krb5_prop"}},
			{"krb5kdc", {"kerberos"}},
			{"netbios", {"netbios-ns", "netbios-dgm", "netbios-ssn"}},
			{"smbd", {"microsoft-ds", "netbios-ssn"}},
			{"samba", {"microsoft-ds", "kerberos", "ldap"}},
			{"ipropd-slave", {"iprop"}},
	};

	for (size_t i = 0; i < PC_ARRAY_SIZE(cases); i++) {
		pc_resolution_finish(&f->res);
		pc_resolution_init(&f->res);
		assert_int_equal(pc_registry_resolve(f->reg, cases[i].daemon, &f->res),
				PC_RESOLVE_UNKNOWN);
		size_t n = pc_registry_suggest(f->reg, cases[i].daemon, s, 3);
		size_t want = 0;
		while (want < 3 && cases[i].want[want])
			want++;
		assert_int_equal(n, want);
		for (size_t k = 0; k < n; k++) {
			assert_string_equal(s[k], cases[i].want[k]);
			pc_resolution_finish(&f->res);
			pc_resolution_init(&f->res);
			assert_int_equal(pc_registry_resolve(f->reg, s[k], &f->res), PC_RESOLVE_OK);
		}
	}
	/* kadmin is a daemon row too; kadmind, one edit away, is never offered. */
	size_t n = pc_registry_suggest(f->reg, "kadmindd", s, 3);
	for (size_t k = 0; k < n; k++)
		assert_string_not_equal(s[k], "kadmind");
}

static void test_port_findings(void **state)
{
	struct fixture *f = *state;

	pc_registry_port_findings(f->reg, 754, PC_PROTO_TCP, &f->diags);
	const struct pc_diag *d = find_diag(&f->diags, "port-conflict");
	assert_non_null(d);
	assert_string_equal(d->msg, "754/tcp means different services in different places: iana "
				    "\"tell\", practice \"krb5_prop\"");
	pc_diags_finish(&f->diags);
	pc_diags_init(&f->diags);

	pc_registry_port_findings(f->reg, 796, PC_PROTO_ANY, &f->diags);
	assert_int_equal(count_diag(&f->diags, "unauthorized-use"), 1);
	assert_null(find_diag(&f->diags, "port-conflict"));
	pc_diags_finish(&f->diags);
	pc_diags_init(&f->diags);

	pc_registry_port_findings(f->reg, 795, PC_PROTO_ANY, &f->diags);
	assert_int_equal(f->diags.n, 0);
	/* Aliases are the same service: 88 is not a conflict. */
	with_services(f);
	pc_registry_port_findings(f->reg, 88, PC_PROTO_ANY, &f->diags);
	assert_int_equal(f->diags.n, 0);
}

static void test_find_port_ranges_and_protocols(void **state)
{
	struct fixture *f = *state;
	struct pc_records r;

	pc_records_init(&r);
	assert_int_equal(pc_registry_find_port(f->reg, 254, PC_PROTO_TCP, &r), 1);
	assert_int_equal(r.v[0].port_lo, 249);
	assert_int_equal(r.v[0].state, PC_STATE_RESERVED);
	r.n = 0;
	assert_int_equal(pc_registry_find_port(f->reg, 754, PC_PROTO_ANY, &r), 3);
	r.n = 0;
	assert_int_equal(pc_registry_find_port(f->reg, 754, PC_PROTO_UDP, &r), 1);
	assert_string_equal(r.v[0].name, "tell");
	r.n = 0;
	assert_int_equal(pc_registry_find_port(f->reg, 6010, PC_PROTO_TCP, &r), 1);
	assert_string_equal(r.v[0].name, "x11");
	pc_records_finish(&r);
}

static void test_port_query_syntax(void **state)
{
	uint16_t lo, hi;
	enum pc_proto p;

	(void)state;
	assert_int_equal(pc_port_query_parse("754", &lo, &hi, &p), 0);
	assert_int_equal(lo, 754);
	assert_int_equal(p, PC_PROTO_ANY);
	assert_int_equal(pc_port_query_parse("754/tcp", &lo, &hi, &p), 0);
	assert_int_equal(p, PC_PROTO_TCP);
	assert_int_equal(pc_port_query_parse("6000-6063/UDP", &lo, &hi, &p), 0);
	assert_int_equal(hi, 6063);
	assert_int_equal(p, PC_PROTO_UDP);
	assert_int_equal(pc_port_query_parse("99999", &lo, &hi, &p), -2);
	assert_int_equal(pc_port_query_parse("022", &lo, &hi, &p), -2);
	assert_int_equal(pc_port_query_parse("754/xyz", &lo, &hi, &p), -2);
	assert_int_equal(pc_port_query_parse("20-10", &lo, &hi, &p), -2);
	assert_int_equal(pc_port_query_parse("3com-tsmux", &lo, &hi, &p), -1); /* a name */
	assert_int_equal(pc_port_query_parse("kerberos", &lo, &hi, &p), -1);
}

static void test_override_errors(void **state)
{
	struct fixture *f = *state;
	static const char *bad[] = {
			"noport",
			"x=/tcp",
			"x=0/tcp",
			"x=70000/tcp",
			"x=80/ddp",
			"x=80",
			"=80/tcp",
			"88=80/tcp",
			"a b=80/tcp",
			"x=022/tcp",
			"x=80/tcp,",
			"x=88/tcp;",
			"x=88/tcp;750",
			"x=88/tcp;0/udp",
			"x=88/tcp;;750/udp",
	};

	for (size_t i = 0; i < PC_ARRAY_SIZE(bad); i++) {
		struct pc_diags d;
		pc_diags_init(&d);
		if (pc_registry_add_override(f->reg, bad[i], "--define", (unsigned)i + 1, &d) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(d.nerrors, 1);
		assert_int_equal(d.v[0].line, i + 1);
		pc_diags_finish(&d);
	}
	assert_false(pc_registry_has_layer(f->reg, PC_LAYER_OVERRIDE));
}

/*
 * Several ports after `;`, each with its protocols: one service, every port
 * at the definition's place, never "registered on several ports".
 */
static void test_override_several_ports(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_add_override(f->reg, "kdc=88/tcp,udp;750/udp", "--define", 1,
					 &f->diags),
			0);
	assert_int_equal(pc_registry_resolve(f->reg, "kdc", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.nports, 3);
	assert_int_equal(f->res.ports[0].lo, 88);
	assert_int_equal(f->res.ports[0].proto, PC_PROTO_TCP);
	assert_int_equal(f->res.ports[1].lo, 88);
	assert_int_equal(f->res.ports[1].proto, PC_PROTO_UDP);
	assert_int_equal(f->res.ports[2].lo, 750);
	assert_int_equal(f->res.ports[2].proto, PC_PROTO_UDP);
	for (size_t i = 0; i < f->res.nports; i++) {
		assert_int_equal(f->res.ports[i].src.layer, PC_LAYER_OVERRIDE);
		assert_int_equal(f->res.ports[i].src.line, 1);
	}
	for (size_t i = 0; i < f->res.findings.n; i++)
		assert_string_not_equal(f->res.findings.v[i].code, "multi-port");
}

static void test_override_defined_twice(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_add_override(f->reg, "Foo=80/tcp", "--define", 1, &f->diags),
			0);
	assert_int_equal(pc_registry_add_override(f->reg, "foo=81/tcp", "--define", 2, &f->diags),
			-1);
	assert_diag_at(&f->diags, "override-duplicate", 2, 0);
	assert_non_null(strstr(f->diags.v[0].msg, "already defined (--define Foo=80/tcp)"));
	/* A policy's definition is named by its file and line. */
	assert_int_equal(pc_registry_add_override(f->reg, "bar=83/tcp", "p.yaml", 5, &f->diags), 0);
	assert_int_equal(pc_registry_add_override(f->reg, "BAR=84/tcp", "--define", 4, &f->diags),
			-1);
	assert_non_null(strstr(f->diags.v[1].msg, "already defined (p.yaml:5)"));
	assert_int_equal(
			pc_registry_add_override(f->reg, "foobar=82/tcp", "--define", 3, &f->diags),
			0);
	assert_int_equal(pc_registry_resolve(f->reg, "FOO", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.ports[0].lo, 80);
}

/* A port a --define lists twice for one protocol, or inside a range it lists, is an error. */
static void test_override_port_twice(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[][2] = {
			{"x=88/tcp;88/tcp",
					"'x' lists 88/tcp where it already lists 88/tcp: each port once"},
			{"y=88/tcp,tcp",
					"'y' lists 88/tcp where it already lists 88/tcp: each port once"},
			{"z=80-90/udp;88/udp",
					"'z' lists 88/udp where it already lists 80-90/udp: each port once"},
	};

	for (size_t i = 0; i < PC_ARRAY_SIZE(bad); i++) {
		struct pc_diags d;
		pc_diags_init(&d);
		assert_int_equal(pc_registry_add_override(f->reg, bad[i][0], "--define",
						 (unsigned)i + 1, &d),
				-1);
		assert_int_equal(d.n, 1);
		assert_diag_at(&d, "service-port-duplicate", (unsigned)i + 1, 0);
		assert_int_equal(d.v[0].sev, PC_SEV_ERROR);
		assert_string_equal(d.v[0].msg, bad[i][1]);
		pc_diags_finish(&d);
	}
	assert_int_equal(pc_registry_add_override(
					 f->reg, "w=88/tcp;88/udp", "--define", 9, &f->diags),
			0);
}

static void test_override_of_an_iana_name(void **state)
{
	struct fixture *f = *state;

	/* Allowed: the user's word is the top layer, and the disagreement is reported. */
	assert_int_equal(pc_registry_add_override(
					 f->reg, "kerberos=8888/tcp", "--define", 1, &f->diags),
			0);
	assert_int_equal(pc_registry_resolve(f->reg, "kerberos", &f->res), PC_RESOLVE_OK);
	assert_int_equal(f->res.layer, PC_LAYER_OVERRIDE);
	assert_int_equal(f->res.nports, 1);
	assert_int_equal(f->res.ports[0].lo, 8888);
	assert_int_equal(count_diag(&f->res.findings, "name-conflict"), 2); /* practice, iana */
	assert_non_null(strstr(f->res.findings.v[0].msg, "88/tcp, 88/udp in the practice layer"));
}

static void test_registry_file_too_large(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/pc-big-XXXXXX";
	int fd = mkstemp(path);

	/* 100 MB, sparse: refused before a byte is read. */
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 100 * 1000 * 1000), 0);
	close(fd);
	assert_int_equal(pc_registry_load_iana(f->reg, path, &f->diags), PC_LOAD_UNREADABLE);
	assert_non_null(strstr(f->diags.v[0].msg, "file is too large"));
	unlink(path);
}

static void test_missing_files(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pc_registry_load_iana(f->reg, "/nonexistent/iana.csv", &f->diags),
			PC_LOAD_UNREADABLE);
	assert_int_equal(pc_registry_load_services(f->reg, src_path("tests"), &f->diags),
			PC_LOAD_UNREADABLE);
	assert_int_equal(f->diags.nerrors, 2);
	assert_non_null(strstr(f->diags.v[0].msg, "No such file"));
	assert_non_null(strstr(f->diags.v[1].msg, "Is a directory"));
	/* The embedded layers are still there. */
	assert_int_equal(pc_registry_resolve(f->reg, "kerberos", &f->res), PC_RESOLVE_OK);
	assert_string_equal(pc_registry_iana_date(f->reg), "2026-02-13");
}

/*
 * A file that is not a regular one (a device, a FIFO) cannot be read: the
 * environment's problem, told apart from a registry whose data is wrong.
 */
static void test_unreadable_or_invalid(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/pc-load-XXXXXX", fifo[64];
	static const char bad[] = "Service Name,Port Number\nkerberos,88\n";

	assert_int_equal(pc_registry_load_iana(f->reg, "/dev/zero", &f->diags), PC_LOAD_UNREADABLE);
	assert_int_equal(pc_registry_load_services(f->reg, "/dev/zero", &f->diags),
			PC_LOAD_UNREADABLE);
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(pc_registry_load_iana(f->reg, fifo, &f->diags), PC_LOAD_UNREADABLE);
	assert_non_null(strstr(f->diags.v[f->diags.n - 1].msg, "not a regular file"));
	unlink(fifo);
	rmdir(dir);
	size_t before = f->diags.nerrors;
	assert_int_equal(pc_registry_load_iana_mem(
					 f->reg, "bad.csv", bad, sizeof(bad) - 1, &f->diags),
			PC_LOAD_INVALID);
	assert_true(f->diags.nerrors > before);
	assert_string_equal(pc_registry_iana_date(f->reg), "2026-02-13");
}

/*
 * A port lookup finds every range holding the port, a wide one that starts
 * long before it too, past narrower ranges that end before the port.
 */
static void test_find_port_nested_ranges(void **state)
{
	struct fixture *f = *state;
	static const char csv[] =
			"Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,"
			"Registration Date,Modification Date,Reference,Service Code,"
			"Unauthorized Use Reported,Assignment Notes\r\n"
			"wide,1000-2000,tcp,wide,,,,2030-01-01,,,,\r\n"
			"early,1100-1200,tcp,early,,,,,,,,\r\n"
			"later,1500-1600,tcp,later,,,,,,,,\r\n"
			"after,2500-2600,tcp,after,,,,,,,,\r\n";
	struct pc_records rows;

	assert_int_equal(pc_registry_load_iana_mem(
					 f->reg, "nested.csv", csv, sizeof(csv) - 1, &f->diags),
			0);
	pc_records_init(&rows);
	assert_int_equal(pc_registry_find_port(f->reg, 1550, PC_PROTO_TCP, &rows), 2);
	assert_string_equal(rows.v[0].name, "wide");
	assert_string_equal(rows.v[1].name, "later");
	rows.n = 0;
	assert_int_equal(pc_registry_find_port(f->reg, 1700, PC_PROTO_TCP, &rows), 1);
	assert_string_equal(rows.v[0].name, "wide");
	rows.n = 0;
	assert_int_equal(pc_registry_find_port(f->reg, 2100, PC_PROTO_TCP, &rows), 0);
	assert_int_equal(pc_registry_find_port(f->reg, 2600, PC_PROTO_TCP, &rows), 1);
	assert_string_equal(rows.v[0].name, "after");
	pc_records_finish(&rows);
}

static void test_runtime_registry_replaces_embedded(void **state)
{
	struct fixture *f = *state;
	static const char csv[] =
			"Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,"
			"Registration Date,Modification Date,Reference,Service Code,"
			"Unauthorized Use Reported,Assignment Notes\r\n"
			"kerberos,1088,tcp,Kerberos (test),,,,2030-01-01,,,,\r\n";

	assert_int_equal(pc_registry_load_iana_mem(
					 f->reg, "new.csv", csv, sizeof(csv) - 1, &f->diags),
			0);
	assert_string_equal(pc_registry_iana_date(f->reg), "2030-01-01");
	assert_string_equal(pc_registry_iana_file(f->reg), "new.csv");
	assert_int_equal(pc_registry_resolve(f->reg, "kerberos", &f->res), PC_RESOLVE_OK);
	/* practice (88) is above iana (1088): it decides, and the disagreement is reported. */
	assert_int_equal(f->res.ports[0].lo, 88);
	assert_non_null(strstr(finding(f, "name-conflict")->msg, "1088/tcp in the iana layer"));
}

/* One row per layer, in precedence order; a new registry holds the embedded ones. */
static void test_layer_table(void **state)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_diags d;

	(void)state;
	pc_diags_init(&d);
	for (int k = 0; k < PC_LAYER_COUNT; k++) {
		const struct pc_layer_def *def = pc_layer_def((enum pc_layer_kind)k);
		assert_non_null(def);
		assert_int_equal(def->kind, k);
		assert_string_equal(pc_layer_name(def->kind), def->name);
		assert_non_null(def->cited);
		assert_non_null(def->description);
		assert_non_null(def->notes);
		assert_int_equal(pc_registry_has_layer(reg, def->kind),
				(def->flags & PC_LAYER_F_EMBEDDED) != 0);
		assert_true(!def->parse || (def->what && def->max_bytes));
		assert_true(!def->default_path || def->parse);
		for (int i = 0; i < k; i++)
			assert_string_not_equal(
					def->name, pc_layer_def((enum pc_layer_kind)i)->name);
		/* A layer with no loader says so, and the registry keeps what it had. */
		if (!def->parse) {
			bool had = pc_registry_has_layer(reg, def->kind);
			assert_int_equal(pc_registry_load_mem(reg, def->kind, "x", "", 0, &d),
					PC_LOAD_INVALID);
			assert_int_equal(pc_registry_has_layer(reg, def->kind), had);
		}
	}
	assert_null(pc_layer_def(PC_LAYER_COUNT));
	assert_int_equal(d.nerrors, (size_t)count_diag(&d, "io"));
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test_setup_teardown(
					test_krb5_prop_from_practice, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_krb5_prop_with_system_layer, setup, teardown),
			cmocka_unit_test_setup_teardown(test_kerberos_protocols, setup, teardown),
			cmocka_unit_test_setup_teardown(test_define_narrows, setup, teardown),
			cmocka_unit_test_setup_teardown(test_define_alias, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_kerberos_adm_tcp_only, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_lower_layers_add_protocols, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_kerberos_iv_conflicts, setup, teardown),
			cmocka_unit_test_setup_teardown(test_contested_kdc, setup, teardown),
			cmocka_unit_test_setup_teardown(test_multi_port_name, setup, teardown),
			cmocka_unit_test_setup_teardown(test_historic_alias, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_reserved_and_unassigned_ports, setup, teardown),
			cmocka_unit_test_setup_teardown(test_named_reservation, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_unauthorized_use_on_range_names_one_port, setup,
					teardown),
			cmocka_unit_test_setup_teardown(test_no_port_name, setup, teardown),
			cmocka_unit_test_setup_teardown(test_case_folding, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_unknown_and_suggestions, setup, teardown),
			cmocka_unit_test_setup_teardown(test_daemon_suggestions, setup, teardown),
			cmocka_unit_test_setup_teardown(test_port_findings, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_find_port_ranges_and_protocols, setup, teardown),
			cmocka_unit_test(test_port_query_syntax),
			cmocka_unit_test(test_layer_table),
			cmocka_unit_test_setup_teardown(test_override_errors, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_override_several_ports, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_override_defined_twice, setup, teardown),
			cmocka_unit_test_setup_teardown(test_override_port_twice, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_override_of_an_iana_name, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_registry_file_too_large, setup, teardown),
			cmocka_unit_test_setup_teardown(test_missing_files, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_unreadable_or_invalid, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_find_port_nested_ranges, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_runtime_registry_replaces_embedded, setup, teardown),
	};

	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
