/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Policies: every diagnostic with its code, severity, line and column; what resolution yields. */
#include "testutil.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portcullis/policy.h"
#include "portcullis/registry.h"
#include "portcullis/session.h"
#include "registry/layer.h"
#include "policy/internal.h"
#include "sha256.h"

struct checked {
	struct pc_policy p;
	struct pc_registry *reg;
	struct pc_diags d;
	int rc;
};

static void check_text(struct checked *c, const char *text)
{
	pc_policy_init(&c->p);
	pc_diags_init(&c->d);
	c->reg = pc_registry_create();
	c->rc = pc_policy_load_mem(&c->p, "p.yaml", text, strlen(text), &c->d);
	if (c->rc == 0)
		c->rc = pc_policy_resolve(&c->p, c->reg, &c->d);
}

static void done(struct checked *c)
{
	pc_policy_finish(&c->p);
	pc_diags_finish(&c->d);
	pc_registry_destroy(c->reg);
}

#define H "version: 1\npolicy: t\n"

static const struct diag_case {
	const char *text;
	const char *code;
	enum pc_severity sev;
	unsigned line, col;
} cases[] = {
		{H "rulez:\n  - allow: ssh\n", "schema-unknown-key", PC_SEV_ERROR, 3, 1},
		{H "rules:\n  - allow: ssh\n    form: 192.0.2.1\n", "schema-unknown-key",
				PC_SEV_ERROR, 5, 5},
		{"policy: t\nrules:\n  - allow: ssh\n", "schema-missing", PC_SEV_ERROR, 1, 1},
		{"version: 2\npolicy: t\nrules:\n  - allow: ssh\n", "schema-version", PC_SEV_ERROR,
				1, 10},
		{H "rules: []\n", "schema-empty", PC_SEV_ERROR, 3, 8},
		{H "rules:\n  allow: ssh\n", "schema-type", PC_SEV_ERROR, 4, 3},
		{H "rules:\n  - allow: ssh\n    log: yes\n", "schema-value", PC_SEV_ERROR, 5, 10},
		{H "rules:\n  - allow: ~\n", "schema-missing", PC_SEV_ERROR, 4, 12},
		{H "defaults:\n  input: reject\nrules:\n  - allow: ssh\n", "schema-value",
				PC_SEV_ERROR, 4, 10},
		{H "rules:\n  - from: 192.0.2.1\n", "rule-action", PC_SEV_ERROR, 4, 5},
		{H "rules:\n  - allow: ssh\n    deny: ssh\n", "rule-action", PC_SEV_ERROR, 5, 11},
		{H "rules:\n  - allow: ssh\n    direction: output\n    from: 192.0.2.1\n",
				"rule-peer", PC_SEV_ERROR, 6, 11},
		{H "rules:\n  - allow: ssh\n    limit: 0/minute\n", "rule-limit", PC_SEV_ERROR, 5,
				12},
		{H "rules:\n  - allow: ssh\n    interface: 'a b'\n", "rule-interface", PC_SEV_ERROR,
				5, 16},
		{H "rules:\n  - allow: ssh\n    interface: '*'\n", "rule-interface", PC_SEV_ERROR,
				5, 16},
		{H "rules:\n  - allow: ssh\n    interface: e*h0\n", "rule-interface", PC_SEV_ERROR,
				5, 16},
		{H "rules:\n  - allow: ssh\n    interface: '!eth0'\n", "rule-interface",
				PC_SEV_ERROR, 5, 16},
		{H "rules:\n  - allow: ssh\n    interface: [eth0, eth1, eth0]\n", "rule-interface",
				PC_SEV_ERROR, 5, 29},
		{H "rules:\n  - allow: ssh\n    interface: [eth0, eth*]\n", "rule-interface",
				PC_SEV_ERROR, 5, 23},
		{H "rules:\n  - allow: ssh\n    interface: {not: [eth0, '*']}\n", "rule-interface",
				PC_SEV_ERROR, 5, 29},
		{H "rules:\n  - allow: ssh\n    interface: {nor: eth0}\n", "schema-missing",
				PC_SEV_ERROR, 5, 16},
		{H "rules:\n  - allow: ssh\n    interface: {not: []}\n", "schema-empty",
				PC_SEV_ERROR, 5, 22},
		{"version: 1\npolicy: '1abc'\nrules:\n  - allow: ssh\n", "policy-name",
				PC_SEV_ERROR, 2, 9},
		{H "rules:\n  - allow: kerbros\n", "unknown-service", PC_SEV_ERROR, 4, 12},
		{H "rules:\n  - allow: kdc\n", "contested", PC_SEV_ERROR, 4, 12},
		{H "rules:\n  - allow: npp\n", "multi-port", PC_SEV_ERROR, 4, 12},
		{H "rules:\n  - allow: argus\n", "no-port", PC_SEV_ERROR, 4, 12},
		{H "rules:\n  - allow: krb5_prop\n    protocol: udp\n", "protocol-not-listed",
				PC_SEV_ERROR, 4, 12},
		{H "rules:\n  - allow: boe-cms\n", "protocol-unknown", PC_SEV_ERROR, 4, 12},
		{H "rules:\n  - allow: krb5_prop\n    from: 192.0.2.1\n", "registry-conflict",
				PC_SEV_WARNING, 4, 12},
		{H "rules:\n  - allow: acmaint_dbd\n", "historic-alias", PC_SEV_WARNING, 4, 12},
		{H "rules:\n  - allow: kerberos-adm\n", "open-to-anywhere", PC_SEV_WARNING, 4, 12},
		{H "rules:\n  - allow: x11\n    from: 192.0.2.1\n", "unauthorized-use",
				PC_SEV_WARNING, 4, 12},
		{H "registry:\n  services:\n    m: {port: 250, protocol: tcp}\nrules:\n  - allow: m\n",
				"port-reserved", PC_SEV_WARNING, 7, 12},
		{H "registry:\n  services:\n    m: {port: 796, protocol: udp}\nrules:\n  - allow: m\n",
				"port-unassigned", PC_SEV_WARNING, 7, 12},
		{H "registry:\n  services:\n    m: {port: 022, protocol: tcp}\nrules:\n  - allow: m\n",
				"port-syntax", PC_SEV_ERROR, 5, 15},
		{H "registry:\n  services:\n    m: {port: 0, protocol: tcp}\nrules:\n  - allow: m\n",
				"port-zero", PC_SEV_ERROR, 5, 15},
		{H "registry:\n  services:\n    m: {port: 9102}\nrules:\n  - allow: m\n",
				"schema-missing", PC_SEV_ERROR, 5, 5},
		{H "registry:\n  services:\n    '9102': {port: 9102, protocol: tcp}\nrules:\n  - allow: ssh\n",
				"service-name", PC_SEV_ERROR, 5, 5},
		{H "rules:\n  - allow: 0/tcp\n", "port-zero", PC_SEV_ERROR, 4, 12},
		{H "rules:\n  - allow: 70000/tcp\n", "port-syntax", PC_SEV_ERROR, 4, 12},
		{H "rules:\n  - allow: 100-50/tcp\n", "port-syntax", PC_SEV_ERROR, 4, 12},
		{H "rules:\n  - allow: 8080\n", "port-protocol", PC_SEV_ERROR, 4, 12},
		{H "rules:\n  - allow: 1-65535/tcp\n    from: 192.0.2.1\n", "port-all",
				PC_SEV_WARNING, 4, 12},
		{H "rules:\n  - allow: 22/udp\n    protocol: tcp\n", "protocol-conflict",
				PC_SEV_ERROR, 4, 12},
		{H "rules:\n  - allow: [ssh, 22/tcp]\n    from: 192.0.2.1\n", "duplicate-service",
				PC_SEV_WARNING, 4, 18},
		{H "rules:\n  - allow: ssh\n    from: admin\n", "network-unknown", PC_SEV_ERROR, 5,
				11},
		{H "networks:\n  a: [b]\n  b: [a]\nrules:\n  - allow: ssh\n    from: a\n",
				"network-cycle", PC_SEV_ERROR, 5, 7},
		{H "networks:\n  a: [192.0.2.1]\n  a: [192.0.2.2]\nrules:\n  - allow: ssh\n",
				"yaml-duplicate-key", PC_SEV_ERROR, 5, 3},
		{H "networks:\n  '1a': [192.0.2.1]\nrules:\n  - allow: ssh\n", "network-name",
				PC_SEV_ERROR, 4, 3},
		{H "rules:\n  - allow: ssh\n    from: 10.0.0.0/33\n", "address-prefix",
				PC_SEV_ERROR, 5, 11},
		{H "rules:\n  - allow: ssh\n    from: 10.0.0.1/8\n", "address-host-bits",
				PC_SEV_WARNING, 5, 11},
		{H "rules:\n  - allow: ssh\n    from: 010.0.0.1\n", "address-syntax", PC_SEV_ERROR,
				5, 11},
		{H "rules:\n  - allow: ssh\n    from: 10.1\n", "address-syntax", PC_SEV_ERROR, 5,
				11},
		{H "rules:\n  - allow: ssh\n    from: 'fe80::1%eth0'\n", "address-syntax",
				PC_SEV_ERROR, 5, 11},
		{H "rules:\n  - allow: ssh\n    from: '::ffff:10.0.0.1'\n", "address-mapped",
				PC_SEV_ERROR, 5, 11},
		{H "networks:\n  a: [10.0.0.0/8, 10.1.0.0/16]\nrules:\n  - allow: ssh\n    from: a\n",
				"network-overlap", PC_SEV_WARNING, 4, 19},
		{H "rules:\n  - allow: ssh\n    from: 192.0.2.0/24\n  - deny: ssh\n    from: 192.0.2.7\n",
				"rule-shadowed", PC_SEV_WARNING, 6, 5},
		{H "rules:\n  - allow: ssh\n    from: 192.0.2.7\n  - allow: ssh\n    from: 192.0.2.7\n",
				"rule-duplicate", PC_SEV_WARNING, 6, 5},
		{H "rules:\n  - allow: ssh\n    protocol: [tcp, tcp]\n", "duplicate-protocol",
				PC_SEV_WARNING, 5, 21},
		{H "include: nothere.yaml\nrules:\n  - allow: ssh\n", "include-read", PC_SEV_ERROR,
				3, 10},
		{H "registry:\n  layers: [iana]\nrules:\n  - allow: krb5_prop\n", "unknown-service",
				PC_SEV_ERROR, 6, 12},
};

/* Networks naming networks: 16 deep is fine, the 17th is an error at its definition; no depth
 * crashes. */
static void test_network_depth(void **state)
{
	(void)state;
	static const size_t sizes[] = {16, 17, 20000};
	for (size_t k = 0; k < PC_ARRAY_SIZE(sizes); k++) {
		size_t n = sizes[k];
		struct pc_buf b = {0};
		pc_buf_printf(&b, H "networks:\n");
		for (size_t i = 0; i + 1 < n; i++)
			pc_buf_printf(&b, "  n%zu: [n%zu, 10.0.%zu.%zu]\n", i, i + 1, i / 256 % 256,
					i % 256);
		pc_buf_printf(&b, "  n%zu: [10.255.0.1]\nrules:\n  - allow: ssh\n    from: n0\n",
				n - 1);
		struct checked c;
		check_text(&c, b.data);
		const struct pc_diag *d = find_diag(&c.d, "network-limit");
		if (n == 16) {
			assert_int_equal(c.rc, 0);
			assert_null(d);
			/* n0 holds every address of the chain */
			assert_int_equal(c.p.rules[0].src.nv4, 16);
		} else {
			assert_int_equal(c.rc, -1);
			assert_non_null(d);
			assert_int_equal(d->line, 4 + 16); /* n16's definition */
			assert_int_equal(d->col, 3);
			assert_string_equal(d->msg,
					"networks nest at most 16 deep: 'n16' is the 17th "
					"of a chain that starts at 'n0'");
		}
		done(&c);
		pc_buf_finish(&b);
	}
}

static void test_every_diagnostic(void **state)
{
	(void)state;
	for (size_t i = 0; i < PC_ARRAY_SIZE(cases); i++) {
		const struct diag_case *k = &cases[i];
		struct checked c;

		check_text(&c, k->text);
		const struct pc_diag *d = find_diag(&c.d, k->code);
		if (!d) {
			pc_diags_print(&c.d, stderr);
			fail_msg("case %zu: no [%s]", i, k->code);
		}
		if (d->sev != k->sev || d->line != k->line || d->col != k->col) {
			pc_diags_print(&c.d, stderr);
			fail_msg("case %zu [%s]: got %s at %u:%u, want %s at %u:%u", i, k->code,
					pc_severity_name(d->sev), d->line, d->col,
					pc_severity_name(k->sev), k->line, k->col);
		}
		assert_string_equal(d->file, "p.yaml");
		if (k->sev == PC_SEV_ERROR)
			assert_int_equal(c.rc, -1);
		done(&c);
	}
}

/* The diagnostics with `code`, in order, as "line:col: message". */
static void expect_diags(
		const struct pc_diags *d, const char *code, const char *const *want, size_t n)
{
	size_t k = 0;
	char got[512];

	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->v[i].code, code))
			continue;
		snprintf(got, sizeof(got), "%u:%u: %s", d->v[i].line, d->v[i].col, d->v[i].msg);
		if (k >= n)
			fail_msg("one [%s] too many: %s", code, got);
		assert_string_equal(got, want[k]);
		assert_int_equal(d->v[i].sev, PC_SEV_WARNING);
		k++;
	}
	assert_int_equal(k, n);
}

/* A sensitive port open to a whole family, however the sources and the port are written. */
static void test_open_per_family(void **state)
{
	struct checked c;
	static const char *const want[] = {
			"4:12: 'kerberos-adm' is open to every IPv4 address",
			"6:12: 'kerberos-adm' is open to every IPv6 address",
			"8:12: '749/tcp' is open to every IPv4 address: port 749 is kerberos-adm",
			"10:12: '740-760/tcp' is open to anywhere (every IPv4 and IPv6 address): "
			"port 749 is kerberos-adm, 751 is kerberos-master, 754 is krb5_prop",
			"11:12: 'tell' is open to anywhere (every IPv4 and IPv6 address): port 754 "
			"is krb5_prop",
	};

	(void)state;
	check_text(&c, H "rules:\n"
			 "  - allow: kerberos-adm\n    from: 0.0.0.0/0\n"
			 "  - allow: kerberos-adm\n    from: '::/0'\n"
			 "  - allow: 749/tcp\n    from: [0.0.0.0/1, 128.0.0.0/1]\n"
			 "  - allow: 740-760/tcp\n"
			 "  - allow: tell\n"
			 "  - allow: 749/tcp\n    from: [0.0.0.0/1, 192.0.2.0/24, '::/1']\n"
			 "  - allow: 749/tcp\n    direction: output\n"
			 "  - deny: 749/tcp\n");
	assert_int_equal(c.rc, 0);
	expect_diags(&c.d, "open-to-anywhere", want, PC_ARRAY_SIZE(want));
	done(&c);
}

/* A port written as a number gets the registry's findings a name would. */
static void test_literal_port_findings(void **state)
{
	struct checked c;
	static const char *const reserved[] = {
			"5:12: '254/tcp': IANA lists 254/tcp as Reserved",
			"8:12: '250-260/tcp': IANA lists 250-255/tcp as Reserved",
	};
	static const char *const unassigned[] = {
			"4:12: '796/tcp': IANA lists 796/tcp as Unassigned",
			"8:12: '250-260/tcp': IANA lists 258/tcp as Unassigned",
	};
	static const char *const unauthorized[] = {
			"4:12: IANA reports unauthorized use of 796: \"Unauthorized Use Known on port "
			"796\"",
	};
	static const char *const conflict[] = {
			"6:12: 754/tcp means different services in different places: iana \"tell\", "
			"practice \"krb5_prop\"",
	};

	(void)state;
	check_text(&c, H "rules:\n"
			 "  - allow: 796/tcp\n"
			 "  - allow: 254/tcp\n"
			 "  - allow: 754/tcp\n    from: 192.0.2.1\n"
			 "  - allow: 250-260/tcp\n"
			 "  - allow: 30000-40000/udp\n"
			 "  - allow: 88/udp\n");
	assert_int_equal(c.rc, 0);
	expect_diags(&c.d, "port-reserved", reserved, PC_ARRAY_SIZE(reserved));
	expect_diags(&c.d, "port-unassigned", unassigned, PC_ARRAY_SIZE(unassigned));
	expect_diags(&c.d, "unauthorized-use", unauthorized, PC_ARRAY_SIZE(unauthorized));
	expect_diags(&c.d, "port-conflict", conflict, PC_ARRAY_SIZE(conflict));
	done(&c);
}

/*
 * kerberos-adm opens 749/tcp only (the practice layer knows kadmind), with a
 * note at the rule naming the source; ssh, which practice does not know,
 * opens every protocol IANA lists, and check says so, unless the rule
 * writes `protocol:`.
 */
static void test_protocols_the_daemon_uses(void **state)
{
	struct checked c;
	static const char *const implied[] = {
			"6:12: 'ssh' opens 22/udp and 22/sctp as well as 22/tcp: the registry lists "
			"those protocols, and no layer says the daemon uses them",
	};

	(void)state;
	check_text(&c, H "rules:\n"
			 "  - allow: kerberos-adm\n    from: 192.0.2.1\n"
			 "  - allow: ssh\n    from: 192.0.2.1\n"
			 "  - allow: ssh\n    protocol: tcp\n    from: 192.0.2.2\n"
			 "  - allow: kerberos-adm\n    protocol: tcp\n    from: 192.0.2.2\n"
			 "  - allow: [kerberos, kpasswd]\n    from: 192.0.2.3\n");
	assert_int_equal(c.rc, 0);
	const struct pc_rule *r = &c.p.rules[0];
	assert_int_equal(r->nmatches, 1);
	assert_int_equal(r->matches[0].proto, PC_PROTO_TCP);
	assert_int_equal(r->matches[0].layer, PC_LAYER_PRACTICE);
	assert_int_equal(count_diag(&c.d, "practice-only"), 1);
	const struct pc_diag *d = find_diag(&c.d, "practice-only");
	assert_int_equal(d->sev, PC_SEV_NOTE);
	assert_int_equal(d->line, 4);
	assert_int_equal(d->col, 12);
	assert_non_null(strstr(d->msg, "749/udp is left out: the daemon serves 749/tcp only (the "
				       "source: data/practice.services:"));
	assert_int_equal(c.p.rules[1].nmatches, 3);
	expect_diags(&c.d, "protocol-implied", implied, PC_ARRAY_SIZE(implied));
	assert_string_equal(find_diag(&c.d, "protocol-implied")->hint,
			"say which protocols the daemon uses, e.g. `protocol: tcp`");
	assert_int_equal(c.p.rules[4].nmatches, 4);
	done(&c);
}

/* Sources and destinations with no family in common: the rule matches no packet. */
static void test_rule_no_match(void **state)
{
	struct checked c;
	static const char *const want[] = {
			"4:5: this rule matches no packet: its sources are IPv6 only and its "
			"destinations IPv4 only",
	};

	(void)state;
	check_text(&c, H "rules:\n"
			 "  - allow: 88/udp\n    direction: forward\n"
			 "    from: '2001:db8::/32'\n    to: 192.0.2.0/24\n"
			 "  - allow: 88/udp\n    direction: forward\n"
			 "    from: ['2001:db8::/32', 198.51.100.1]\n    to: 192.0.2.0/24\n"
			 "  - allow: 88/udp\n    direction: forward\n    to: 192.0.2.0/24\n");
	assert_int_equal(c.rc, 0);
	expect_diags(&c.d, "rule-no-match", want, PC_ARRAY_SIZE(want));
	done(&c);
}

static void test_resolution(void **state)
{
	struct checked c;

	(void)state;
	check_text(&c, "version: 1\n"
		       "policy: kdc\n"
		       "registry:\n"
		       "  services:\n"
		       "    metrics: {port: 9102, protocol: tcp}\n"
		       "networks:\n"
		       "  replicas: [192.0.2.11, \"2001:db8:10::11\"]\n"
		       "  admins: [198.51.100.0/24]\n"
		       "  monitoring: [admins, 203.0.113.7]\n"
		       "  anywhere: [0.0.0.0/0, \"::/0\"]\n"
		       "rules:\n"
		       "  - allow: [kerberos, kpasswd]\n"
		       "    from: anywhere\n"
		       "  - allow: kerberos-adm\n"
		       "    protocol: tcp\n"
		       "    from: admins\n"
		       "  - allow: x11\n"
		       "    protocol: tcp\n"
		       "    from: monitoring\n"
		       "  - allow: metrics\n"
		       "    from: monitoring\n"
		       "  - allow: krb5_prop\n"
		       "    direction: output\n"
		       "    to: replicas\n");
	assert_int_equal(c.rc, 0);
	assert_int_equal(c.d.nerrors, 0);
	assert_int_equal(c.p.nrules, 5);
	const struct pc_rule *r = &c.p.rules[0];
	assert_int_equal(r->nmatches, 4); /* 88 and 464, tcp and udp */
	assert_true(r->src.any);
	assert_int_equal(r->matches[0].lo, 88);
	assert_int_equal(r->matches[0].proto, PC_PROTO_TCP);
	assert_string_equal(r->matches[0].service, "kerberos");
	assert_int_equal(r->matches[3].lo, 464);
	assert_int_equal(r->matches[3].proto, PC_PROTO_UDP);

	r = &c.p.rules[1]; /* tcp: what the practice layer says kadmind serves */
	assert_int_equal(r->nmatches, 1);
	assert_int_equal(r->matches[0].lo, 749);
	assert_int_equal(r->matches[0].layer, PC_LAYER_PRACTICE);
	assert_string_equal(r->matches[0].src_file, "data/practice.services");
	assert_int_equal(r->src.nv4, 1);
	assert_int_equal(r->src.v4[0].len, 24);

	r = &c.p.rules[2]; /* a range stays a range; networks nest */
	assert_int_equal(r->matches[0].lo, 6000);
	assert_int_equal(r->matches[0].hi, 6063);
	assert_int_equal(r->src.nv4, 2);
	assert_int_equal(r->src.v4[1].bytes[0], 203);
	assert_int_equal(r->src.v4[1].len, 32);

	r = &c.p.rules[3]; /* the policy's own service, from its own line */
	assert_int_equal(r->matches[0].lo, 9102);
	assert_int_equal(r->matches[0].layer, PC_LAYER_OVERRIDE);
	assert_string_equal(r->matches[0].src_file, "p.yaml");
	assert_int_equal(r->matches[0].src_line, 5);

	r = &c.p.rules[4];
	assert_int_equal(r->direction, PC_DIR_OUTPUT);
	assert_int_equal(r->dst.nv4, 1);
	assert_int_equal(r->dst.nv6, 1);
	assert_int_equal(r->dst.v6[0].len, 128);
	assert_int_equal(r->matches[0].layer, PC_LAYER_PRACTICE);
	done(&c);
}

static void test_defaults(void **state)
{
	struct checked c;

	(void)state;
	check_text(&c, H "rules:\n  - allow: ssh\n    from: 192.0.2.1\n");
	assert_int_equal(c.p.defaults.input, PC_VERDICT_DROP);
	assert_int_equal(c.p.defaults.forward, PC_VERDICT_DROP);
	assert_int_equal(c.p.defaults.output, PC_VERDICT_ACCEPT);
	assert_true(c.p.defaults.established);
	assert_true(c.p.defaults.loopback);
	assert_int_equal(c.p.defaults.icmp, PC_ICMP_ESSENTIAL);
	done(&c);
	check_text(&c, H "defaults:\n  output: drop\n  established: none\n  icmp: none\n"
			 "rules:\n  - allow: ssh\n    from: 192.0.2.1\n");
	assert_int_equal(c.p.defaults.output, PC_VERDICT_DROP);
	assert_false(c.p.defaults.established);
	assert_int_equal(c.p.defaults.icmp, PC_ICMP_NONE);
	done(&c);
}

/* The packet as the lockout check builds it: on an interface, and on lo. */
static void test_evaluate_interface(void **state)
{
	struct checked c;
	struct pc_packet pkt;
	struct pc_decision dec;
	struct pc_packet_error err;

	(void)state;
	check_text(&c, H "rules:\n"
			 "  - deny: 22/tcp\n    interface: eth0\n"
			 "  - allow: 22/tcp\n    interface: eth1\n"
			 "  - allow: 88/tcp\n");
	assert_int_equal(c.rc, 0);
	assert_int_equal(pc_packet_parse("tcp 192.0.2.9 -> 22", &pkt, &err), 0);
	assert_string_equal(pkt.iface, "");
	pc_policy_evaluate(&c.p, &pkt, &dec); /* no interface: both passed over */
	assert_false(dec.by_rule);
	assert_int_equal(dec.skipped_interface, 2);
	memcpy(pkt.iface, "eth0", 5);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_true(dec.by_rule);
	assert_int_equal(dec.rule, 0);
	assert_int_equal(dec.verdict, PC_VERDICT_DROP);
	assert_int_equal(dec.skipped_interface, 0);
	memcpy(pkt.iface, "eth1", 5);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_true(dec.by_rule);
	assert_int_equal(dec.rule, 1);
	assert_int_equal(dec.verdict, PC_VERDICT_ACCEPT);
	memcpy(pkt.iface, "eth2", 5);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_false(dec.by_rule);
	assert_int_equal(dec.verdict, PC_VERDICT_DROP);
	assert_int_equal(dec.skipped_interface, 0);
	/* loopback: accept (the default) comes first on lo, in and out; not forwarded. */
	memcpy(pkt.iface, "lo", 3);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_true(dec.by_loopback);
	assert_int_equal(dec.verdict, PC_VERDICT_ACCEPT);
	pkt.direction = PC_DIR_FORWARD;
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_false(dec.by_loopback);
	assert_int_equal(dec.verdict, PC_VERDICT_DROP);
	done(&c);
	check_text(&c, H "defaults:\n  loopback: none\nrules:\n  - allow: 88/tcp\n");
	assert_int_equal(pc_packet_parse("tcp 127.0.0.1 -> 22", &pkt, &err), 0);
	memcpy(pkt.iface, "lo", 3);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_false(dec.by_loopback);
	assert_int_equal(dec.verdict, PC_VERDICT_DROP);
	done(&c);
}

static void test_session_parse(void **state)
{
	struct pc_session s;
	char err[128];
	static const uint8_t v4[4] = {192, 0, 2, 9}, srv4[4] = {192, 0, 2, 1};

	(void)state;
	assert_int_equal(pc_session_parse("192.0.2.9 50000 192.0.2.1 22", &s, err, sizeof(err)), 0);
	assert_int_equal(s.family, 4);
	assert_memory_equal(s.client, v4, 4);
	assert_memory_equal(s.server, srv4, 4);
	assert_int_equal(s.cport, 50000);
	assert_int_equal(s.sport, 22);
	assert_string_equal(s.zone, "");

	/* sshd writes a link-local peer with its zone: taken off, kept as the interface. */
	assert_int_equal(pc_session_parse("fe80::1%eth0 50000 fe80::2%eth0 22", &s, err,
					 sizeof(err)),
			0);
	assert_int_equal(s.family, 6);
	assert_int_equal(s.client[0], 0xfe);
	assert_int_equal(s.client[15], 1);
	assert_string_equal(s.zone, "eth0");

	/* IPv4-mapped (a dual-stack listener): the packets are IPv4. */
	assert_int_equal(pc_session_parse("::ffff:192.0.2.9 50000 ::ffff:192.0.2.1 22", &s, err,
					 sizeof(err)),
			0);
	assert_int_equal(s.family, 4);
	assert_memory_equal(s.client, v4, 4);
	assert_int_equal(s.client[4], 0);

	static const struct {
		const char *text, *err;
	} bad[] = {
			{"", "expected four words: CLIENT CPORT SERVER SPORT"},
			{"192.0.2.9 50000 192.0.2.1",
					"expected four words: CLIENT CPORT SERVER SPORT"},
			{"192.0.2.9 50000 192.0.2.1 22 x",
					"expected four words: CLIENT CPORT SERVER SPORT"},
			{"192.0.2.9  50000 192.0.2.1 22",
					"expected four words: CLIENT CPORT SERVER SPORT"},
			{"192.0.2.9 50000 192.0.2.1 22 ",
					"expected four words: CLIENT CPORT SERVER SPORT"},
			{"192.0.2.9\t50000 192.0.2.1 22",
					"expected four words: CLIENT CPORT SERVER SPORT"},
			{"host 50000 192.0.2.1 22", "'host' is not an IPv4 or IPv6 address"},
			{"192.0.2.9%eth0 50000 192.0.2.1 22",
					"'192.0.2.9%eth0' is not an IPv4 or IPv6 address"},
			{"fe80::1% 50000 fe80::2 22",
					"'fe80::1%' has a zone that is not an interface name"},
			{"fe80::1%a/b 50000 fe80::2 22",
					"'fe80::1%a/b' has a zone that is not an interface name"},
			{"fe80::1%abcdefghijklmnop 1 fe80::2 22",
					"'fe80::1%abcdefghijklmnop' has a zone that is not an interface name"},
			{"192.0.2.9 0 192.0.2.1 22", "'0' is not a port (1-65535)"},
			{"192.0.2.9 65536 192.0.2.1 22", "'65536' is not a port (1-65535)"},
			{"192.0.2.9 022 192.0.2.1 22", "'022' is not a port (1-65535)"},
			{"192.0.2.9 50000 192.0.2.1 +22", "'+22' is not a port (1-65535)"},
			{"192.0.2.9 50000 2001:db8::1 22",
					"the client '192.0.2.9' and the server '2001:db8::1' are not of one family"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(pc_session_parse(bad[i].text, &s, err, sizeof(err)), -1);
		assert_string_equal(err, bad[i].err);
	}
}

static void test_layers_that_disagree(void **state)
{
	struct checked c;
	struct pc_diags tmp;

	(void)state;
	/* A services file puts a name elsewhere than IANA: ambiguous, the user picks. */
	pc_policy_init(&c.p);
	pc_diags_init(&c.d);
	pc_diags_init(&tmp);
	c.reg = pc_registry_create();
	static const char services[] = "kpasswd 4640/tcp\n";
	assert_int_equal(pc_registry_load_services_mem(
					 c.reg, "svc", services, sizeof(services) - 1, &tmp),
			0);
	static const char text[] = H "rules:\n  - allow: kpasswd\n    from: 192.0.2.1\n";
	assert_int_equal(pc_policy_load_mem(&c.p, "p.yaml", text, sizeof(text) - 1, &c.d), 0);
	assert_int_equal(pc_policy_resolve(&c.p, c.reg, &c.d), -1);
	assert_diag_at(&c.d, "ambiguous-service", 4, 12);
	assert_non_null(find_diag(&c.d, "ambiguous-service")->hint);
	done(&c);
	pc_diags_finish(&tmp);

	/* The policy's own definition is a choice: a warning says what it overrides. */
	check_text(&c, H "registry:\n  services:\n    kpasswd: {port: 4640, protocol: tcp}\n"
			 "rules:\n  - allow: kpasswd\n    from: 192.0.2.1\n");
	assert_int_equal(c.rc, 0);
	const struct pc_diag *d = find_diag(&c.d, "name-conflict");
	assert_non_null(d);
	assert_int_equal(d->sev, PC_SEV_WARNING);
	assert_int_equal(d->line, 7);
	assert_int_equal(c.p.rules[0].matches[0].lo, 4640);
	done(&c);
}

/* The protocols a rule's matches open on `port`, as bits 1 << enum pc_proto. */
static unsigned protos_on(const struct pc_rule *rule, uint16_t port)
{
	unsigned bits = 0;

	for (size_t i = 0; i < rule->nmatches; i++)
		if (rule->matches[i].lo <= port && port <= rule->matches[i].hi)
			bits |= 1u << rule->matches[i].proto;
	return bits;
}

/* The one diagnostic with `code`, checked whole. */
static void assert_one(const struct pc_diags *d, const char *code, enum pc_severity sev,
		unsigned line, unsigned col, const char *msg)
{
	const struct pc_diag *f = NULL;
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].code, code) && n++ == 0)
			f = &d->v[i];
	if (n != 1) {
		pc_diags_print(d, stderr);
		fail_msg("%zu [%s], want 1", n, code);
	}
	assert_int_equal(f->sev, sev);
	assert_int_equal(f->line, line);
	assert_int_equal(f->col, col);
	assert_string_equal(f->msg, msg);
}

/*
 * Neighbour discovery is kept unless the policy drops it, and dropping it
 * is a warning at the key that names what stops working.
 */
static void test_neighbour_discovery(void **state)
{
	struct checked c;

	(void)state;
	check_text(&c, H "defaults:\n  icmp: none\nrules:\n  - allow: 88/tcp\n");
	assert_int_equal(c.rc, 0);
	assert_true(c.p.defaults.neighbour_discovery);
	assert_int_equal(c.d.n, 0);
	done(&c);
	check_text(&c, H "defaults:\n  icmp: none\n  neighbour-discovery: drop\n"
			 "rules:\n  - allow: 22/tcp\n");
	assert_int_equal(c.rc, 0);
	assert_false(c.p.defaults.neighbour_discovery);
	assert_int_equal(c.p.defaults.neighbour_discovery_loc.line, 5);
	assert_one(&c.d, "nd-dropped", PC_SEV_WARNING, 5, 24,
			"neighbour discovery is dropped (ICMPv6 router and neighbour solicitations "
			"and advertisements, in input and output): this host finds no IPv6 "
			"neighbour, so no IPv6 traffic reaches it, leaves it or crosses it but on "
			"lo, whatever the rules allow");
	done(&c);
	check_text(&c, H "defaults:\n  neighbour-discovery: none\nrules:\n  - allow: 22/tcp\n");
	assert_int_not_equal(c.rc, 0);
	assert_diag_at(&c.d, "schema-value", 4, 24);
	done(&c);
}

/*
 * The reply path of every allow rule: input's replies leave through output,
 * output's come in through input, forward's go back through forward; with
 * `established: none` a dropping default there is a warning at the rule.
 */
static void test_replies_dropped(void **state)
{
	struct checked c;
	enum pc_direction reply;

	(void)state;
	check_text(&c, H "defaults:\n  output: drop\n  established: none\nrules:\n"
			 "  - allow: 88/udp\n"
			 "  - deny: 89/udp\n"
			 "  - allow: 22/tcp\n    direction: output\n"
			 "  - allow: 53/udp\n    interface: lo\n"
			 "  - allow: 25/tcp\n    direction: forward\n");
	assert_int_equal(c.rc, 0);
	/* The allows on input, output and forward; not the deny, not the one on lo. */
	static const unsigned lines[] = {7, 9, 13};
	static const char *const ways[] = {
			"leave through output", "come in through input", "go back through forward"};
	const struct pc_diag *found[3] = {NULL, NULL, NULL};
	size_t n = 0;
	for (size_t i = 0; i < c.d.n; i++)
		if (!strcmp(c.d.v[i].code, "replies-dropped") && n++ < 3)
			found[n - 1] = &c.d.v[i];
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++) {
		char msg[256];
		snprintf(msg, sizeof(msg),
				"every connection this rule accepts fails: its replies %s, whose "
				"default policy is drop, and `established: none` does not pass them",
				ways[i]);
		assert_string_equal(found[i]->code, "replies-dropped");
		assert_int_equal(found[i]->sev, PC_SEV_WARNING);
		assert_int_equal(found[i]->line, lines[i]);
		assert_int_equal(found[i]->col, 5);
		assert_string_equal(found[i]->msg, msg);
	}
	assert_int_equal(pc_policy_reply_path(&c.p, PC_DIR_OUTPUT, 4, "", &reply),
			PC_UNUSABLE_REPLIES);
	assert_int_equal(reply, PC_DIR_INPUT);
	assert_int_equal(pc_policy_reply_path(&c.p, PC_DIR_FORWARD, 6, "", &reply),
			PC_UNUSABLE_REPLIES);
	assert_int_equal(reply, PC_DIR_FORWARD);
	/* On lo, `loopback: accept` passes the replies. */
	assert_int_equal(pc_policy_reply_path(&c.p, PC_DIR_INPUT, 4, "lo", &reply), PC_USABLE);
	/*
	 * A reject's answer leaves through output: a TCP reset is dropped, an
	 * ICMP error passes by `icmp: essential`; on output it stays local.
	 */
	assert_int_equal(pc_policy_reject_path(&c.p, PC_DIR_INPUT, PC_PROTO_TCP, 4, ""),
			PC_UNUSABLE_RESET);
	assert_int_equal(pc_policy_reject_path(&c.p, PC_DIR_FORWARD, PC_PROTO_TCP, 6, ""),
			PC_UNUSABLE_RESET);
	assert_int_equal(pc_policy_reject_path(&c.p, PC_DIR_INPUT, PC_PROTO_UDP, 4, ""), PC_USABLE);
	assert_int_equal(pc_policy_reject_path(&c.p, PC_DIR_INPUT, PC_PROTO_TCP, 4, "lo"),
			PC_USABLE);
	assert_int_equal(
			pc_policy_reject_path(&c.p, PC_DIR_OUTPUT, PC_PROTO_TCP, 4, ""), PC_USABLE);
	done(&c);
	check_text(&c, H "defaults:\n  output: drop\n  established: none\n  icmp: none\n"
			 "rules:\n  - reject: 88/udp\n");
	assert_int_equal(c.d.n, 0); /* a reject is no warning */
	assert_int_equal(pc_policy_reject_path(&c.p, PC_DIR_INPUT, PC_PROTO_UDP, 6, ""),
			PC_UNUSABLE_ICMP_ERROR);
	done(&c);
	/* `established: accept`, or an accepting default, passes them. */
	check_text(&c, H "defaults:\n  output: drop\nrules:\n  - allow: 88/udp\n");
	assert_int_equal(c.d.n, 0);
	done(&c);
	check_text(&c, H "defaults:\n  established: none\nrules:\n  - allow: 88/udp\n");
	assert_int_equal(c.d.n, 0);
	assert_int_equal(pc_policy_reply_path(&c.p, PC_DIR_INPUT, 6, "", &reply), PC_USABLE);
	done(&c);
	/* IPv6 without neighbour discovery is of no use, whatever the replies do. */
	check_text(&c, H "defaults:\n  neighbour-discovery: drop\nrules:\n  - allow: 88/udp\n");
	assert_int_equal(pc_policy_reply_path(&c.p, PC_DIR_INPUT, 6, "", &reply), PC_UNUSABLE_ND);
	assert_int_equal(pc_policy_reply_path(&c.p, PC_DIR_INPUT, 4, "", &reply), PC_USABLE);
	assert_int_equal(pc_policy_reply_path(&c.p, PC_DIR_INPUT, 6, "lo", &reply), PC_USABLE);
	done(&c);
}

/*
 * A definition in the policy is the final word for its name: the layers
 * below add no protocol, and what they said is a note at the definition.
 */
static void test_definition_narrows(void **state)
{
	static const struct {
		const char *def, *name;
		uint16_t port;
		unsigned want;
		const char *code, *msg;
	} v[] = {
			{"kerberos-adm: {port: 749, protocol: tcp}", "kerberos-adm", 749,
					1u << PC_PROTO_TCP, "definition-replaces",
					"kerberos-adm: the definition (749/tcp) replaces what the iana "
					"layer says (749/tcp, 749/udp)"},
			{"kerberos: {port: 88, protocol: udp}", "kerberos", 88, 1u << PC_PROTO_UDP,
					"definition-replaces",
					"kerberos: the definition (88/udp) replaces what the practice "
					"layer says (88/tcp, 88/udp)"},
			{"kerberos-iv: {port: 750, protocol: udp}", "kerberos-iv", 750,
					1u << PC_PROTO_UDP, "definition-replaces",
					"kerberos-iv: the definition (750/udp) replaces what the practice "
					"layer says (750/udp, 750/tcp)"},
	};
	(void)state;
	for (size_t i = 0; i < PC_ARRAY_SIZE(v); i++) {
		struct checked c;
		char *text = xasprintf(H "registry:\n  services:\n    %s\nrules:\n  - allow: "
					 "%s\n    from: 192.0.2.1\n",
				v[i].def, v[i].name);
		check_text(&c, text);
		assert_int_equal(c.rc, 0);
		assert_int_equal(protos_on(&c.p.rules[0], v[i].port), v[i].want);
		/* Said once, at the definition, not at every rule that uses the name. */
		const struct pc_diag *d = find_diag(&c.d, v[i].code);
		assert_non_null(d);
		assert_int_equal(d->sev, PC_SEV_NOTE);
		assert_int_equal(d->line, 5);
		assert_int_equal(d->col, 5);
		assert_string_equal(d->msg, v[i].msg);
		for (size_t k = 0; k < c.d.n; k++)
			if (!strcmp(c.d.v[k].code, v[i].code))
				assert_int_equal(c.d.v[k].line, 5);
		done(&c);
		free(text);
	}

	/* A definition that says what the layers say is no news. */
	struct checked c;
	check_text(&c, H "registry:\n  services:\n    kerberos-adm: {port: 749, protocol: [tcp, "
			 "udp]}\nrules:\n  - allow: kerberos-adm\n    from: 192.0.2.1\n");
	assert_int_equal(c.rc, 0);
	assert_null(find_diag(&c.d, "definition-replaces"));
	assert_int_equal(protos_on(&c.p.rules[0], 749), 1u << PC_PROTO_TCP | 1u << PC_PROTO_UDP);
	done(&c);
}

/*
 * Pinning the contested kdc to the ports of kerberos, as the contested
 * finding's hint says, is an alias of kerberos: a note, never a conflict.
 */
static void test_definition_alias(void **state)
{
	struct checked c;

	(void)state;
	check_text(&c, H "registry:\n  services:\n    kdc: {port: 88, protocol: [tcp, udp]}\n"
			 "rules:\n  - allow: kdc\n    from: 192.0.2.1\n");
	assert_int_equal(c.rc, 0);
	assert_int_equal(c.d.nwarnings, 0);
	assert_null(find_diag(&c.d, "registry-conflict"));
	assert_one(&c.d, "definition-alias", PC_SEV_NOTE, 5, 5,
			"kdc: the definition (88/tcp, 88/udp) gives exactly the ports of "
			"'kerberos': an alias of it, no conflict");
	assert_int_equal(protos_on(&c.p.rules[0], 88), 1u << PC_PROTO_TCP | 1u << PC_PROTO_UDP);
	done(&c);

	/* Fewer ports than kerberos has are not kerberos: the conflict stays. */
	check_text(&c, H "registry:\n  services:\n    kdc: {port: 88, protocol: tcp}\n"
			 "rules:\n  - allow: kdc\n    from: 192.0.2.1\n");
	assert_null(find_diag(&c.d, "definition-alias"));
	assert_one(&c.d, "registry-conflict", PC_SEV_WARNING, 7, 12,
			"kdc resolves to 88/tcp from the override layer; IANA assigns 88/tcp to "
			"\"kerberos\" (Kerberos)");
	done(&c);

	/* Where IANA names two services (loadav, kerberos-iv on 750/udp) it is no alias. */
	check_text(&c, H "registry:\n  services:\n    kdc: {port: 750, protocol: udp}\n"
			 "rules:\n  - allow: kdc\n    from: 192.0.2.1\n");
	assert_null(find_diag(&c.d, "definition-alias"));
	assert_int_equal(c.d.nwarnings, 1);
	assert_one(&c.d, "registry-conflict", PC_SEV_WARNING, 7, 12,
			"kdc resolves to 750/udp from the override layer; IANA assigns 750/udp to "
			"\"loadav\", \"kerberos-iv\" (kerberos version iv)");
	done(&c);
}

/* A definition lists several ports per protocol; every port keeps the definition's line. */
static void test_definition_ports(void **state)
{
	static const char *const forms[] = {
			"kdc: {port: [88, 750], protocol: udp}",
			"kdc: {udp: [88, 750]}",
			"kdc: {udp: 88, tcp: 750-751}",
	};
	static const unsigned want750[] = {
			1u << PC_PROTO_UDP, 1u << PC_PROTO_UDP, 1u << PC_PROTO_TCP};
	struct checked c;

	(void)state;
	for (size_t i = 0; i < PC_ARRAY_SIZE(forms); i++) {
		char *text = xasprintf(H "registry:\n  services:\n    %s\nrules:\n  - allow: kdc\n"
					 "    from: 192.0.2.1\n",
				forms[i]);
		check_text(&c, text);
		assert_int_equal(c.rc, 0);
		assert_null(find_diag(&c.d, "multi-port"));
		assert_int_equal(protos_on(&c.p.rules[0], 88), 1u << PC_PROTO_UDP);
		assert_int_equal(protos_on(&c.p.rules[0], 750), want750[i]);
		for (size_t k = 0; k < c.p.rules[0].nmatches; k++) {
			const struct pc_match *m = &c.p.rules[0].matches[k];
			assert_string_equal(m->service, "kdc");
			assert_int_equal(m->layer, PC_LAYER_OVERRIDE);
			assert_int_equal(m->src_line, 5);
			assert_null(m->group);
		}
		done(&c);
		free(text);
	}

	/* Both forms at once, a port twice, a group with ports: each an error at its place. */
	check_text(&c, H "registry:\n  services:\n    kdc: {port: 88, protocol: udp, tcp: 88}\n"
			 "rules:\n  - allow: ssh\n");
	assert_one(&c.d, "schema-value", PC_SEV_ERROR, 5, 41,
			"service 'kdc' lists its ports either with `port:` and `protocol:` or per "
			"protocol, not both");
	done(&c);
	check_text(&c, H
			"registry:\n  services:\n    kdc: {udp: [88, 88]}\nrules:\n  - allow: ssh\n");
	assert_one(&c.d, "service-port-duplicate", PC_SEV_ERROR, 5, 21,
			"'kdc' lists 88 twice for one protocol");
	done(&c);
	check_text(&c, H "registry:\n  services:\n    kdc: {group: [kerberos], port: 88}\n"
			 "rules:\n  - allow: ssh\n");
	assert_diag_at(&c.d, "schema-unknown-key", 5, 30);
	done(&c);

	/*
	 * A list of more than 32 ports (looked up by number, not compared with
	 * each before it): the overlap named is still the first port listed that
	 * it overlaps (85, not 82), a port twice is said as such, and a list on
	 * another protocol overlaps nothing.
	 */
	struct pc_buf b = {0}, u = {0};
	for (unsigned i = 0; i < 40; i++)
		pc_buf_printf(&b, "%s%u", i ? ", " : "", i == 3 ? 85 : i == 10 ? 82 : 2000 + i);
	pc_buf_printf(&u, "%s", b.data);
	pc_buf_printf(&b, ", 80-90, 3000");
	char *text = xasprintf(H "registry:\n  services:\n    kdc: {tcp: [%s]}\n"
				 "rules:\n  - allow: ssh\n",
			b.data);
	check_text(&c, text);
	unsigned col = (unsigned)(strstr(text, "80-90") - strstr(text, "    kdc:")) + 1;
	unsigned col85 = (unsigned)(strstr(text, "85,") - strstr(text, "    kdc:")) + 1;
	char *want = xasprintf(
			"'kdc' lists 80-90, which overlaps 85 (at 5:%u), for one protocol", col85);
	assert_one(&c.d, "service-port-duplicate", PC_SEV_ERROR, 5, col, want);
	done(&c);
	free(want);
	free(text);
	text = xasprintf(H "registry:\n  services:\n    kdc: {tcp: [%s, 2039]}\n"
			   "rules:\n  - allow: ssh\n",
			u.data);
	check_text(&c, text);
	col = (unsigned)(strstr(text, "2039]") - strstr(text, "    kdc:")) + 1;
	assert_one(&c.d, "service-port-duplicate", PC_SEV_ERROR, 5, col,
			"'kdc' lists 2039 twice for one protocol");
	done(&c);
	free(text);
	text = xasprintf(H "registry:\n  services:\n    kdc: {tcp: 1-65535, udp: [%s]}\n"
			   "rules:\n  - allow: kdc\n    from: 192.0.2.1\n",
			u.data);
	check_text(&c, text);
	assert_null(find_diag(&c.d, "service-port-duplicate"));
	assert_int_equal(protos_on(&c.p.rules[0], 2039), 1u << PC_PROTO_TCP | 1u << PC_PROTO_UDP);
	assert_int_equal(protos_on(&c.p.rules[0], 85), 1u << PC_PROTO_TCP | 1u << PC_PROTO_UDP);
	done(&c);
	free(text);
	pc_buf_finish(&b);
	pc_buf_finish(&u);
}

/*
 * A group names services of any layer, ports and other groups; a rule that
 * names it opens every member's ports, each with its own provenance.
 */
static void test_service_groups(void **state)
{
	struct checked c;

	(void)state;
	check_text(&c, H "registry:\n  services:\n    kdc4: {udp: 750}\n"
			 "    kdc: [kerberos, kdc4]\n    krb: {group: [kdc, kpasswd, 9102/tcp]}\n"
			 "rules:\n  - allow: krb\n    from: 192.0.2.1\n");
	assert_int_equal(c.rc, 0);
	const struct pc_rule *r = &c.p.rules[0];
	assert_int_equal(protos_on(r, 88), 1u << PC_PROTO_TCP | 1u << PC_PROTO_UDP);
	assert_int_equal(protos_on(r, 750), 1u << PC_PROTO_UDP);
	assert_int_equal(protos_on(r, 464), 1u << PC_PROTO_TCP | 1u << PC_PROTO_UDP);
	assert_int_equal(protos_on(r, 9102), 1u << PC_PROTO_TCP);
	for (size_t k = 0; k < r->nmatches; k++) {
		const struct pc_match *m = &r->matches[k];
		assert_string_equal(m->group, "krb");
		assert_int_equal(m->loc.line, 9);
		assert_int_equal(m->loc.col, 12);
		if (m->lo == 750) {
			assert_string_equal(m->service, "kdc4");
			assert_int_equal(m->src_line, 5);
		} else if (m->lo == 88) {
			assert_string_equal(m->service, "kerberos");
			assert_int_equal(m->layer, PC_LAYER_PRACTICE);
		} else if (m->lo == 9102) {
			/* A port in a group cites the group's line, as a definition's does. */
			assert_null(m->service);
			assert_int_equal(m->src_line, 7);
		}
	}
	/* A member's finding is said at the rule that names the group. */
	assert_one(&c.d, "registry-conflict", PC_SEV_WARNING, 9, 12,
			"kdc4 resolves to 750/udp from the override layer; IANA assigns 750/udp to "
			"\"loadav\", \"kerberos-iv\" (kerberos version iv)");
	done(&c);

	/* `protocol:` takes the members on that protocol, and the others not at all. */
	check_text(&c, H "registry:\n  services:\n    kdc4: {udp: 750}\n"
			 "    krb: [kerberos, kdc4, krb5_prop, 9102/tcp]\n"
			 "rules:\n  - allow: krb\n    protocol: udp\n    from: 192.0.2.1\n"
			 "  - allow: krb\n    protocol: sctp\n    from: 192.0.2.2\n");
	assert_int_equal(c.rc, -1);
	assert_int_equal(protos_on(&c.p.rules[0], 88), 1u << PC_PROTO_UDP);
	assert_int_equal(protos_on(&c.p.rules[0], 750), 1u << PC_PROTO_UDP);
	assert_int_equal(protos_on(&c.p.rules[0], 754), 0);
	assert_int_equal(protos_on(&c.p.rules[0], 9102), 0);
	assert_int_equal(c.p.rules[0].nmatches, 2);
	assert_null(find_diag(&c.d, "protocol-conflict"));
	assert_one(&c.d, "protocol-not-listed", PC_SEV_ERROR, 11, 12,
			"no member of the group 'krb' is on sctp");
	done(&c);

	/* A cycle names its chain, once, at the member that closes it. */
	check_text(&c, H "registry:\n  services:\n    a: [kerberos, b]\n    b: [c]\n    c: [a]\n"
			 "rules:\n  - allow: a\n    from: 192.0.2.1\n");
	assert_int_equal(c.rc, -1);
	assert_one(&c.d, "service-cycle", PC_SEV_ERROR, 7, 9,
			"service group 'a' contains itself: a -> b -> c -> a");
	assert_int_equal(c.d.nerrors, 1);
	assert_int_equal(c.p.rules[0].nmatches, 0);
	done(&c);

	/* An unknown member: did you mean, at the member. */
	check_text(&c, H "registry:\n  services:\n    kdc: [kerberos, kpaswd]\n"
			 "rules:\n  - allow: kdc\n    from: 192.0.2.1\n");
	assert_one(&c.d, "unknown-service", PC_SEV_ERROR, 5, 21,
			"unknown service 'kpaswd' (no registry layer knows it)");
	assert_string_equal(find_diag(&c.d, "unknown-service")->hint,
			"did you mean 'kpasswd' or 'rpasswd'?");
	assert_int_equal(c.d.nerrors, 1);
	done(&c);

	/* A port without a protocol, and a group defined twice. */
	check_text(&c, H "registry:\n  services:\n    kdc: [88]\n    KDC: [kerberos]\n"
			 "rules:\n  - allow: ssh\n    from: 192.0.2.1\n");
	assert_one(&c.d, "port-protocol", PC_SEV_ERROR, 5, 11, "'88' in a group needs a protocol");
	assert_one(&c.d, "service-duplicate", PC_SEV_ERROR, 6, 5,
			"'KDC' is already defined (p.yaml:5)");
	done(&c);
	check_text(&c, H "registry:\n  services:\n    kdc: [kerberos]\n    KDC: {udp: 750}\n"
			 "rules:\n  - allow: ssh\n    from: 192.0.2.1\n");
	assert_one(&c.d, "service-duplicate", PC_SEV_ERROR, 6, 5,
			"'KDC' is already defined (p.yaml:5)");
	done(&c);
}

/* The records acknowledged, and those of `code` that are not. */
static size_t acked(const struct pc_diags *d, const char *code, size_t *open)
{
	size_t n = 0;

	*open = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->v[i].code, code))
			continue;
		if (d->v[i].acknowledged)
			n++;
		else
			++*open;
	}
	return n;
}

/*
 * Groups cost what they hold: nesting stops at PC_GROUP_MAX_DEPTH, a group is
 * expanded once a rule, and a policy's groups expand to at most
 * PC_GROUP_MAX_EXPANSION services in its rules.
 */
static void test_group_limits(void **state)
{
	struct checked c;
	struct pc_buf b;

	(void)state;
	/* g0 -> g1 -> ... -> g17: the 17th is one too deep. */
	pc_buf_init(&b);
	pc_buf_adds(&b, H "registry:\n  services:\n");
	for (int i = 0; i < 18; i++)
		pc_buf_printf(&b, "    g%d: [g%d]\n", i, i + 1);
	pc_buf_adds(&b, "    g18: [ssh]\nrules:\n  - allow: g0\n    from: 192.0.2.1\n");
	check_text(&c, b.data);
	assert_int_equal(c.rc, -1);
	assert_one(&c.d, "service-group-limit", PC_SEV_ERROR, 21, 5,
			"groups nest at most 16 deep: 'g16' is the 17th of a chain that starts at "
			"'g0'");
	done(&c);
	pc_buf_finish(&b);

	/* A group named twice in a rule, or reached twice through others: once. */
	check_text(&c, H "registry:\n  services:\n    a: [kerberos]\n    b: [a, a, kpasswd]\n"
			 "rules:\n  - allow: [b, b]\n    from: 192.0.2.1\n");
	assert_int_equal(c.rc, 0);
	assert_int_equal(c.p.rules[0].nmatches, 4);
	assert_one(&c.d, "duplicate-service", PC_SEV_WARNING, 8, 16,
			"the group 'b' is already in this rule");
	done(&c);

	/* f20 holds 60 of f19, and so on down to f0: each expanded once a rule. */
	pc_buf_init(&b);
	pc_buf_adds(&b, H "registry:\n  services:\n    f0: [ssh]\n");
	for (int i = 1; i <= 20; i++) {
		pc_buf_printf(&b, "    f%d: [f%d", i, i - 1);
		for (int k = 1; k < 60; k++)
			pc_buf_printf(&b, ", f%d", i - 1);
		pc_buf_adds(&b, "]\n");
	}
	pc_buf_adds(&b, "rules:\n");
	for (int i = 0; i < 900; i++)
		pc_buf_printf(&b, "  - allow: f20\n    from: 10.%d.%d.1\n", i / 250, i % 250);
	check_text(&c, b.data);
	assert_int_equal(c.rc, -1);
	/* 1201 a rule (f20 to f1: 60 each, f0: 1); the 833rd passes 1000000, at line 27 + 2 * 832.
	 */
	assert_one(&c.d, "service-group-limit", PC_SEV_ERROR, 27 + 2 * 832, 12,
			"the policy's groups expand to more than 1000000 services in its rules");
	done(&c);
	pc_buf_finish(&b);
}

/*
 * A finding acknowledged next to what it is about: only that code, only at
 * that rule (or about that definition), never counted; what matches nothing
 * or only an error says so.
 */
static void test_acknowledge(void **state)
{
	struct checked c;
	size_t open;

	(void)state;
	/* At the rule: its registry-conflict, not the same finding at another rule. */
	check_text(&c, H "rules:\n  - allow: krb5_prop\n    from: 192.0.2.1\n    acknowledge:\n"
			 "      registry-conflict: \"kpropd listens on 754\"\n"
			 "  - allow: krb5_prop\n    direction: output\n    to: 192.0.2.1\n"
			 "    log: true\n");
	assert_int_equal(c.rc, 0);
	assert_int_equal(acked(&c.d, "registry-conflict", &open), 1);
	assert_int_equal(open, 1);
	assert_int_equal(c.d.nwarnings, 1);
	assert_int_equal(c.d.nacknowledged, 1);
	assert_int_equal(c.p.nacks, 1);
	assert_int_equal(c.p.acks[0].matched, 1);
	assert_string_equal(c.p.acks[0].reason, "kpropd listens on 754");
	/* --strict counts what is left, not what is acknowledged. */
	pc_diags_filter(&c.d, NULL, 0, true, 0);
	assert_int_equal(c.d.nerrors, 1);
	assert_int_equal(c.d.n, 1);
	assert_int_equal(c.d.v[0].line, 8);
	done(&c);

	/* On a definition: its findings at every rule that names it, or a group of it. */
	check_text(&c, H "registry:\n  services:\n    metrics:\n      port: 9102\n"
			 "      protocol: tcp\n      acknowledge: {registry-conflict: \"no Bacula "
			 "here\"}\n    all: [metrics, kerberos]\nrules:\n  - allow: metrics\n"
			 "    from: 192.0.2.1\n  - allow: all\n    from: 192.0.2.2\n");
	assert_int_equal(c.rc, 0);
	assert_int_equal(acked(&c.d, "registry-conflict", &open), 2);
	assert_int_equal(open, 0);
	assert_int_equal(c.d.nwarnings, 0);
	done(&c);

	/* Another code at the rule is not covered, and the acknowledgement is stale. */
	check_text(&c, H "rules:\n  - allow: krb5_prop\n    from: 192.0.2.1\n    acknowledge:\n"
			 "      port-reserved: \"not here\"\n");
	assert_int_equal(acked(&c.d, "registry-conflict", &open), 0);
	assert_int_equal(open, 1);
	assert_one(&c.d, "acknowledge-stale", PC_SEV_WARNING, 7, 7,
			"nothing here is reported as 'port-reserved': the acknowledgement is stale");
	assert_string_equal(find_diag(&c.d, "acknowledge-stale")->hint,
			"remove it (the reason was: \"not here\")");
	done(&c);

	/* An error is refused. */
	check_text(&c, H "rules:\n  - allow: kerbros\n    from: 192.0.2.1\n    acknowledge:\n"
			 "      unknown-service: \"on purpose\"\n");
	assert_int_equal(c.rc, -1);
	assert_one(&c.d, "acknowledge-error", PC_SEV_ERROR, 7, 7,
			"an error cannot be acknowledged: p.yaml:4:12 says 'unknown-service' is an "
			"error here");
	assert_false(find_diag(&c.d, "unknown-service")->acknowledged);
	done(&c);

	/* An unknown code (did you mean), a missing reason, an empty one. */
	check_text(&c, H "rules:\n  - allow: ssh\n    acknowledge: {registry-conflcit: x}\n");
	assert_one(&c.d, "acknowledge-code", PC_SEV_ERROR, 5, 19,
			"'registry-conflcit' is not a diagnostic code");
	assert_string_equal(find_diag(&c.d, "acknowledge-code")->hint,
			"did you mean 'registry-conflict'?");
	done(&c);
	check_text(&c, H "rules:\n  - allow: ssh\n    acknowledge: {open-to-anywhere: ~}\n");
	assert_one(&c.d, "acknowledge-reason", PC_SEV_ERROR, 5, 37,
			"acknowledging 'open-to-anywhere' needs a reason");
	done(&c);
	check_text(&c, H "rules:\n  - allow: ssh\n    acknowledge: {open-to-anywhere: ''}\n");
	assert_diag_at(&c.d, "acknowledge-reason", 5, 37);
	done(&c);
	check_text(&c, H "rules:\n  - allow: ssh\n    acknowledge: [open-to-anywhere]\n");
	assert_diag_at(&c.d, "schema-type", 5, 18);
	done(&c);

	/* On a network written as a mapping: what is reported inside it. */
	check_text(&c, H "networks:\n  lab:\n    members: [10.0.0.0/8, 10.1.0.0/16]\n"
			 "    acknowledge: {network-overlap: \"the lab's own subnet, for the "
			 "reader\"}\n  other: {members: [10.2.0.0/16, 10.2.0.0/24]}\nrules:\n"
			 "  - allow: ssh\n    from: [lab, other]\n");
	assert_int_equal(c.rc, 0);
	assert_int_equal(acked(&c.d, "network-overlap", &open), 1);
	assert_int_equal(open, 2); /* in other, and other's /16 inside lab's /8 at other */
	assert_int_equal(c.p.networks[0].nmembers, 2);
	done(&c);
	check_text(&c, H "networks:\n  lab: {acknowledge: {network-overlap: x}}\nrules:\n"
			 "  - allow: ssh\n");
	assert_one(&c.d, "schema-missing", PC_SEV_ERROR, 4, 3,
			"network 'lab' needs its members or a list file");
	done(&c);
}

static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	/* Not group-writable whatever the umask: such a file's includes must be public. */
	assert_int_equal(chmod(path, 0644), 0);
	return path;
}

/*
 * Networks nobody uses: a network of an include the including file uses is
 * used; one of an include nobody uses is left alone (the file serves several
 * policies); one of the policy file itself is reported.
 */
static void test_unused_across_includes(void **state)
{
	char dir[] = "/tmp/pc-unused-XXXXXX";
	struct checked c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	char *a = write_file(dir, "nets.yaml",
			"networks:\n  admins: [198.51.100.0/24]\n  lab: [192.0.2.0/24]\n");
	char *b = write_file(dir, "main.yaml",
			H "include: nets.yaml\nnetworks:\n  spare: [203.0.113.0/24]\n"
			  "rules:\n  - allow: 88/udp\n    from: admins\n");
	pc_policy_init(&c.p);
	pc_diags_init(&c.d);
	c.reg = pc_registry_create();
	assert_int_equal(pc_policy_load(&c.p, b, &c.d), 0);
	assert_int_equal(pc_policy_resolve(&c.p, c.reg, &c.d), 0);
	assert_int_equal(count_diag(&c.d, "network-unused"), 1);
	const struct pc_diag *d = find_diag(&c.d, "network-unused");
	assert_string_equal(d->file, b);
	assert_int_equal(d->line, 5);
	assert_int_equal(d->col, 3);
	assert_string_equal(d->msg, "network 'spare' is defined but no rule uses it");
	done(&c);
	unlink(a);
	unlink(b);
	rmdir(dir);
	free(a);
	free(b);
}

/*
 * The diagnostics of `path` resolved, printed (unless `print` is false); with
 * `release`, the texts given back as read.
 */
static char *printed(const char *path, bool release, bool print, struct checked *c)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	pc_policy_init(&c->p);
	pc_diags_init(&c->d);
	c->reg = pc_registry_create();
	c->p.release_texts = release;
	assert_int_equal(pc_policy_load(&c->p, path, &c->d), 0);
	pc_policy_resolve(&c->p, c->reg, &c->d);
	if (print)
		pc_policy_print_diags(&c->p, &c->d, f);
	fclose(f);
	return out;
}

/*
 * With release_texts, the pages of long address lists go back as they are
 * read: what is printed is what a reading that keeps them prints (a line in
 * them read from the file again, a far column placed), the digest is the
 * text's as read, and a line in them whose file changed since is not shown.
 */
static void test_texts_released(void **state)
{
	char dir[] = "/tmp/pc-release-XXXXXX";
	struct pc_buf b;
	struct checked keep, give;

	(void)state;
	assert_non_null(mkdtemp(dir));
	pc_buf_init(&b);
	/* Lists of 1.3 and 1.7 MB: their pages go back in steps of PC_RELEASE_STEP. */
	pc_buf_adds(&b, H "networks:\n  big: [");
	for (int i = 0; i < 100000; i++)
		pc_buf_printf(&b, "10.%d.%d.%d, ", i / 50000, i % 50000 / 250, i % 250 + 1);
	pc_buf_adds(&b, "10.0.7.7]\n  blk:\n"); /* a duplicate past column 65 535 */
	for (int i = 0; i < 100000; i++)
		pc_buf_printf(&b, "    - 10.%d.%d.%d\n", 8 + i / 50000, i % 50000 / 250,
				i % 250 + 1);
	pc_buf_adds(&b, "    - 10.8.70.7\n" /* line 100006: a duplicate */
			"rules:\n  - allow: 1024/tcp\n    from: big\n" /* line 100008: a warning */
			"  - allow: 88/tcp\n    from: blk\n");
	char *path = write_file(dir, "p.yaml", b.data);
	char *a = printed(path, false, true, &keep);
	char *g = printed(path, true, true, &give);
	const struct pc_ydoc *doc = give.p.state->docs[0];
	assert_true(doc->wide);
	assert_int_equal(count_diag(&give.d, "network-overlap"), 2);
	assert_string_equal(a, g); /* the run's lines read again: the digest held */
	assert_false(doc->released);
	free(g);
	done(&give);

	/* Given back, then the file changed: the lines outside the lists are still shown. */
	g = printed(path, true, false, &give);
	doc = give.p.state->docs[0];
	assert_true(doc->released);
	assert_true(doc->ngone == 2);
	char hex[65], want[65];
	pc_sha256_of(b.data, b.len, want);
	pc_policy_file_sha256(&give.p, 0, hex);
	assert_string_equal(hex, want);
	free(g);
	size_t len;
	const char *line = pc_policy_source_line(&give.p, path, 100008, &len);
	assert_non_null(line);
	assert_int_equal(len, strlen("  - allow: 1024/tcp"));
	assert_memory_equal(line, "  - allow: 1024/tcp", len);
	line = pc_policy_source_line(&give.p, path, 3, &len);
	assert_non_null(line);
	assert_memory_equal(line, "networks:", len);
	assert_true(doc->released); /* read from what is kept, not from the file */
	b.data[b.len - 20] = 'x';
	unlink(path);
	free(write_file(dir, "p.yaml", b.data));
	assert_null(pc_policy_source_line(&give.p, path, 4, &len));
	assert_null(pc_policy_source_line(&give.p, path, 15000, &len));
	line = pc_policy_source_line(&give.p, path, 100006, &len); /* on a page kept */
	assert_non_null(line);
	assert_memory_equal(line, "    - 10.8.70.7", len);
	line = pc_policy_source_line(&give.p, path, 100010, &len);
	assert_non_null(line);
	assert_memory_equal(line, "  - allow: 88/tcp", len);
	pc_policy_file_sha256(&give.p, 0, hex);
	assert_string_equal(hex, want);
	/* Where each address is written: as the reading that kept its text says. */
	for (size_t n = 0; n < 2; n++) {
		const struct pc_addrset *k = &keep.p.networks[n].set, *v = &give.p.networks[n].set;
		assert_int_equal(k->nv4, v->nv4);
		for (size_t i = 0; i < k->nv4; i += 997) {
			struct pc_loc x, y;
			assert_true(pc_policy_prefix_loc(&keep.p, &k->v4[i], &x));
			assert_true(pc_policy_prefix_loc(&give.p, &v->v4[i], &y));
			assert_int_equal(x.line, y.line);
			assert_int_equal(x.col, y.col);
		}
	}
	done(&give);
	done(&keep);
	free(a);
	unlink(path);
	rmdir(dir);
	free(path);
	pc_buf_finish(&b);
}

static void test_includes(void **state)
{
	char dir[] = "/tmp/pc-include-XXXXXX";
	struct pc_policy p;
	struct pc_diags d;
	struct pc_registry *reg = pc_registry_create();

	(void)state;
	assert_non_null(mkdtemp(dir));
	char *a = write_file(dir, "nets.yaml",
			"networks:\n  admins: [198.51.100.0/24]\n"
			"registry:\n  services:\n    m: {port: 9479, protocol: tcp}\n");
	char *b = write_file(dir, "main.yaml",
			H "include: nets.yaml\nrules:\n  - allow: m\n"
			  "    from: admins\n");
	char *c = write_file(dir, "scope.yaml", "registry:\n  layers: [iana]\n");
	char *e = write_file(dir, "dup.yaml",
			H "include: nets.yaml\nnetworks:\n  admins: "
			  "[192.0.2.1]\nrules:\n  - allow: ssh\n    from: admins\n");
	char *f = write_file(
			dir, "uses-scope.yaml", H "include: scope.yaml\nrules:\n  - allow: ssh\n");
	char *g = write_file(dir, "rules.yaml", H "rules:\n  - allow: ssh\n");
	char *h = write_file(
			dir, "inc-rules.yaml", H "include: rules.yaml\nrules:\n  - allow: ssh\n");

	/* Shared networks and services come in. */
	pc_policy_init(&p);
	pc_diags_init(&d);
	assert_int_equal(pc_policy_load(&p, b, &d), 0);
	assert_int_equal(pc_policy_resolve(&p, reg, &d), 0);
	assert_int_equal(p.rules[0].src.nv4, 1);
	assert_int_equal(p.rules[0].matches[0].lo, 9479);
	assert_string_equal(p.rules[0].matches[0].src_file, a);
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	/* registry.layers is the policy's to say. */
	pc_policy_init(&p);
	pc_diags_init(&d);
	assert_int_equal(pc_policy_load(&p, f, &d), -1);
	assert_diag_at(&d, "include-scope", 2, 11);
	assert_string_equal(find_diag(&d, "include-scope")->file, c);
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	/* A network defined twice across files. */
	pc_policy_init(&p);
	pc_diags_init(&d);
	assert_int_equal(pc_policy_load(&p, e, &d), -1);
	assert_diag_at(&d, "network-duplicate", 5, 3);
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	/* An included file holds no rules. */
	pc_policy_init(&p);
	pc_diags_init(&d);
	assert_int_equal(pc_policy_load(&p, h, &d), -1);
	assert_diag_at(&d, "schema-unknown-key", 2, 1); /* policy: */
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	/* Nine files deep. */
	char *chain[10];
	for (int i = 0; i < 10; i++) {
		char name[32], text[64];
		snprintf(name, sizeof(name), "chain%d.yaml", i);
		if (i < 9)
			snprintf(text, sizeof(text), "include: chain%d.yaml\n", i + 1);
		else
			snprintf(text, sizeof(text), "networks:\n  x: [192.0.2.1]\n");
		chain[i] = write_file(dir, name, text);
	}
	char *top = write_file(
			dir, "deep.yaml", H "include: chain0.yaml\nrules:\n  - allow: ssh\n");
	pc_policy_init(&p);
	pc_diags_init(&d);
	assert_int_equal(pc_policy_load(&p, top, &d), -1);
	assert_non_null(find_diag(&d, "include-depth"));
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	char *all[] = {a, b, c, e, f, g, h, top};
	for (size_t i = 0; i < PC_ARRAY_SIZE(all); i++) {
		unlink(all[i]);
		free(all[i]);
	}
	for (int i = 0; i < 10; i++) {
		unlink(chain[i]);
		free(chain[i]);
	}
	rmdir(dir);
	pc_registry_destroy(reg);
}

static struct pc_diags *load_quietly(
		struct pc_policy *p, struct pc_diags *d, const char *path, int *rc)
{
	pc_policy_init(p);
	pc_diags_init(d);
	*rc = pc_policy_load(p, path, d);
	return d;
}

/*
 * Include graphs: a file reached twice is read once and its definitions
 * come in once; a cycle is still an error; the files and bytes of a policy
 * and its includes are bounded, the include that passes a bound named.
 */
static void test_include_graphs(void **state)
{
	char dir[] = "/tmp/pc-graph-XXXXXX";
	struct pc_policy p;
	struct pc_diags d;
	struct pc_buf b;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));

	/* Eight files, each including the next `fan` times: nine files read, whatever
	 * the fan (the counts would be 1 + fan + ... + fan^8 if each path were read). */
	static const int fans[] = {1, 4, 16};
	for (size_t k = 0; k < PC_ARRAY_SIZE(fans); k++) {
		for (int i = 0; i <= 8; i++) {
			char name[32];
			pc_buf_init(&b);
			if (i == 0)
				pc_buf_printf(&b, H "rules:\n  - allow: ssh\n    from: [n1, n8]\n");
			if (i < 8) {
				pc_buf_printf(&b, "include: [");
				for (int j = 0; j < fans[k]; j++)
					pc_buf_printf(&b, "%sg%d.yaml", j ? ", " : "", i + 1);
				pc_buf_printf(&b, "]\n");
			}
			if (i > 0)
				pc_buf_printf(&b, "networks:\n  n%d: [192.0.2.%d]\n", i, i);
			snprintf(name, sizeof(name), "g%d.yaml", i);
			free(write_file(dir, name, b.data));
			pc_buf_finish(&b);
		}
		char *top = xasprintf("%s/g0.yaml", dir);
		load_quietly(&p, &d, top, &rc);
		assert_int_equal(rc, 0);
		assert_int_equal(d.nerrors + d.nwarnings, 0);
		assert_int_equal(pc_policy_file_count(&p), 9);
		assert_int_equal(p.nnetworks, 8);
		pc_policy_finish(&p);
		pc_diags_finish(&d);
		free(top);
	}

	/* A diamond: each definition once, no error. */
	free(write_file(dir, "common.yaml", "networks:\n  common: [192.0.2.1]\n"));
	free(write_file(dir, "b.yaml", "include: common.yaml\nnetworks:\n  b: [192.0.2.2]\n"));
	free(write_file(dir, "c.yaml", "include: common.yaml\nnetworks:\n  c: [192.0.2.3]\n"));
	char *a = write_file(dir, "a.yaml",
			H "include: [b.yaml, c.yaml]\nrules:\n  - allow: ssh\n"
			  "    from: [common, b, c]\n");
	load_quietly(&p, &d, a, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(p.nnetworks, 3);
	assert_int_equal(pc_policy_file_count(&p), 4);
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	/* 130 distinct includes: the one that would be file 129 is refused, at itself. */
	pc_buf_init(&b);
	pc_buf_printf(&b, H "include: [");
	for (int i = 0; i < 130; i++) {
		char name[32], text[64];
		snprintf(name, sizeof(name), "w%03d.yaml", i);
		snprintf(text, sizeof(text), "networks:\n  w%03d: [192.0.2.1]\n", i);
		free(write_file(dir, name, text));
		pc_buf_printf(&b, "%s%s", i ? ", " : "", name);
	}
	pc_buf_printf(&b, "]\nrules:\n  - allow: ssh\n");
	char *wide = write_file(dir, "wide.yaml", b.data);
	pc_buf_finish(&b);
	load_quietly(&p, &d, wide, &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(pc_policy_file_count(&p), 128);
	assert_int_equal(d.nerrors, 3);
	assert_diag_at(&d, "include-limit", 3, 11 + 11 * 127);
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	/* Two includes of 9 MiB: together past 16 MiB, the second refused unread. */
	for (int i = 0; i < 2; i++) {
		char name[32];
		pc_buf_init(&b);
		pc_buf_printf(&b, "networks:\n  big%d: [192.0.2.1]\n# ", i);
		pc_buf_reserve(&b, 9u << 20);
		memset(b.data + b.len, 'x', 9u << 20);
		b.len += 9u << 20;
		pc_buf_add(&b, "\n", 1);
		snprintf(name, sizeof(name), "big%d.yaml", i);
		free(write_file(dir, name, b.data));
		pc_buf_finish(&b);
	}
	char *big = write_file(dir, "big.yaml",
			H "include: [big0.yaml, big1.yaml]\nrules:\n"
			  "  - allow: ssh\n");
	load_quietly(&p, &d, big, &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(pc_policy_file_count(&p), 2);
	assert_int_equal(d.nerrors, 1);
	assert_diag_at(&d, "include-limit", 3, 22);
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	free(a);
	free(wide);
	free(big);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* A policy listing `item` `n` times in one include list, in dir. */
static char *listing(const char *dir, const char *name, const char *item, int n)
{
	struct pc_buf b;

	pc_buf_init(&b);
	pc_buf_printf(&b, H "include: [");
	for (int i = 0; i < n; i++)
		pc_buf_printf(&b, "%s%s", i ? ", " : "", item);
	pc_buf_printf(&b, "]\nrules:\n  - allow: ssh\n");
	char *path = write_file(dir, name, b.data);
	pc_buf_finish(&b);
	return path;
}

/*
 * The work includes cost before they are read is bounded: 1024 listings for
 * a policy and its includes together, 1024 path components walked to
 * resolve one include (those of its links counted), 65536 for all of them;
 * an include is resolved once however often it is listed, a refusal said
 * again at each listing.
 */
static void test_include_work(void **state)
{
	char dir[] = "/tmp/pc-work-XXXXXX";
	struct pc_policy p;
	struct pc_diags d;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	free(write_file(dir, "n.yaml", "networks:\n  n: [192.0.2.1]\n"));

	/* 1024 listings of one file: read once. */
	char *ok = listing(dir, "ok.yaml", "n.yaml", 1024);
	load_quietly(&p, &d, ok, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(pc_policy_file_count(&p), 2);
	assert_int_equal(p.nnetworks, 1);
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	/* 1025: one error, at the 1025th ("n.yaml, " is 8 bytes, the first at column 11). */
	char *over = listing(dir, "over.yaml", "n.yaml", 1025);
	load_quietly(&p, &d, over, &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(d.nerrors, 1);
	assert_diag_at(&d, "include-limit", 3, 11 + 8 * 1024);
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	/* A file that is not there, listed three times: said at each listing. */
	char *missing = listing(dir, "missing.yaml", "none.yaml", 3);
	load_quietly(&p, &d, missing, &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(count_diag(&d, "include-read"), 3);
	assert_int_equal(d.v[2].col, 11 + 11 * 2);
	assert_string_equal(d.v[0].msg, d.v[2].msg);
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	/* 900 components to walk: read; 1100: refused as it passes 1024. */
	static const int dots[] = {900, 1100};
	for (size_t k = 0; k < PC_ARRAY_SIZE(dots); k++) {
		struct pc_buf item;
		pc_buf_init(&item);
		for (int i = 0; i < dots[k]; i++)
			pc_buf_adds(&item, "./");
		pc_buf_adds(&item, "n.yaml");
		char *path = listing(dir, "dots.yaml", item.data, 1);
		load_quietly(&p, &d, path, &rc);
		assert_int_equal(rc, k == 0 ? 0 : -1);
		assert_int_equal(d.nerrors, k == 0 ? 0 : 1);
		if (k == 1) {
			assert_diag_at(&d, "include-limit", 3, 11);
			assert_non_null(strstr(d.v[0].msg, "walks more than 1024 path components"));
		}
		pc_policy_finish(&p);
		pc_diags_finish(&d);
		pc_buf_finish(&item);
		free(path);
	}

	/* 80 ways of writing it, each walking about 950 components: the includes
	 * of the policy pass 65536 together, and those past are refused. */
	struct pc_buf b;
	pc_buf_init(&b);
	pc_buf_printf(&b, H "include: [");
	for (int i = 0; i < 80; i++) {
		for (int j = 0; j < 900 + i; j++)
			pc_buf_adds(&b, "./");
		pc_buf_printf(&b, "n.yaml%s", i < 79 ? ", " : "");
	}
	pc_buf_printf(&b, "]\nrules:\n  - allow: ssh\n");
	char *many = write_file(dir, "many.yaml", b.data);
	pc_buf_finish(&b);
	load_quietly(&p, &d, many, &rc);
	assert_int_equal(rc, -1);
	assert_in_range(count_diag(&d, "include-limit"), 1, 80 - 60);
	assert_non_null(strstr(find_diag(&d, "include-limit")->msg, "more than 65536 path "
								    "components together"));
	assert_int_equal(p.nnetworks, 1);
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	free(ok);
	free(over);
	free(missing);
	free(many);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void test_many_errors_in_one_run(void **state)
{
	struct checked c;

	(void)state;
	check_text(&c, H "rules:\n"
			 "  - allow: kerbros\n"
			 "  - allow: kpasswd\n"
			 "    from: 10.0.0.0/33\n"
			 "  - allow: 0/tcp\n"
			 "  - allow: kdc\n");
	assert_int_equal(c.d.nerrors, 4);
	assert_int_equal(c.d.v[0].line, 4);
	assert_int_equal(c.d.v[3].line, 8);
	done(&c);
}

/*
 * Leaves out what the registry says of the ports a test writes as numbers,
 * and the rules its defaults make redundant: tests of other findings.
 */
static void leave_out_port_findings(struct checked *c)
{
	static const char *const codes[] = {"port-conflict", "port-reserved", "port-unassigned",
			"rule-redundant", "unauthorized-use"};

	pc_diags_filter(&c->d, codes, PC_ARRAY_SIZE(codes), false, 0);
}

/* Shadowing across a large policy: found however far apart, wide ranges included. */
static void test_shadowing_at_scale(void **state)
{
	struct pc_buf b;
	struct checked c;

	(void)state;
	pc_buf_init(&b);
	pc_buf_adds(&b, H "rules:\n  - deny: 1-65535/udp\n"); /* rule 1, wide: line 4 */
	for (int i = 0; i < 6000; i++) { /* rules 2-6001 */
		char line[64];
		snprintf(line, sizeof(line), "  - allow: %d/tcp\n    from: 192.0.2.%d\n", 1024 + i,
				i % 200);
		pc_buf_adds(&b, line);
	}
	/* Rule 6002 repeats rule 2 (line 5); rule 6003 sits under the wide deny. */
	pc_buf_adds(&b, "  - allow: 1024/tcp\n    from: 192.0.2.0\n  - allow: 53/udp\n");
	check_text(&c, b.data);
	assert_int_equal(c.rc, 0);
	leave_out_port_findings(&c);
	assert_int_equal(c.d.n, 3);
	assert_string_equal(c.d.v[0].code, "port-all");
	assert_string_equal(c.d.v[1].code, "rule-duplicate");
	assert_int_equal(c.d.v[1].line, 4 + 1 + 2 * 6000);
	assert_non_null(strstr(c.d.v[1].msg, "p.yaml:5:5"));
	assert_string_equal(c.d.v[2].code, "rule-shadowed");
	assert_int_equal(c.d.v[2].line, 4 + 1 + 2 * 6000 + 2);
	assert_non_null(strstr(c.d.v[2].msg, "p.yaml:4:5"));
	done(&c);
	pc_buf_finish(&b);
}

/*
 * Overlapping wide ranges of ports from anywhere, none holding another: no
 * rule is shadowed, and each is looked up against the wide rules whose
 * first port is at or below its own and that reach its end, not against
 * every earlier one.  A later range (or port) held by an earlier wide one,
 * whatever bucket each starts in, is still found, by its first such rule.
 */
static void test_shadowing_wide_ranges(void **state)
{
	struct pc_buf b;
	struct checked c;
	size_t lines[8], n = 0;
	const char *by[8];

	(void)state;
	pc_buf_init(&b);
	pc_buf_adds(&b, H "rules:\n  - allow: 30000-40000/tcp\n"); /* line 4 */
	for (int i = 0; i < 3000; i++) { /* lines 5-3004 */
		char line[64];
		snprintf(line, sizeof(line), "  - allow: %d-%d/tcp\n", 1 + i, 20000 + i);
		pc_buf_adds(&b, line);
	}
	pc_buf_adds(&b, "  - allow: 31000-40000/tcp\n" /* 3005: under line 4, the same end */
			"  - allow: 410-20400/tcp\n" /* 3006: under 401-20400 (line 405), one bucket
						      */
			"  - allow: 2-20002/tcp\n" /* 3007: held by none */
			"  - allow: 40001-50000/tcp\n" /* 3008: held by none */
			"  - allow: 35000/tcp\n"); /* 3009: under line 4 */
	check_text(&c, b.data);
	assert_int_equal(c.rc, 0);
	for (size_t i = 0; i < c.d.n; i++)
		if (!strcmp(c.d.v[i].code, "rule-shadowed") ||
				!strcmp(c.d.v[i].code, "rule-duplicate")) {
			assert_true(n < 8);
			lines[n] = c.d.v[i].line;
			by[n++] = c.d.v[i].msg;
		}
	assert_int_equal(n, 3);
	assert_int_equal(lines[0], 3005);
	assert_non_null(strstr(by[0], "p.yaml:4:5"));
	assert_int_equal(lines[1], 3006);
	assert_non_null(strstr(by[1], "p.yaml:405:5"));
	assert_int_equal(lines[2], 3009);
	assert_non_null(strstr(by[2], "p.yaml:4:5"));
	done(&c);
	pc_buf_finish(&b);
}

/*
 * Many rules on one port, each from its own host: the rule that covers a
 * later one is found by its prefix, whatever lies between; the union of
 * earlier hosts covers nothing (one earlier rule must match every packet).
 */
static void test_shadowing_by_address_at_scale(void **state)
{
	struct pc_buf b;
	struct checked c;

	(void)state;
	pc_buf_init(&b);
	pc_buf_adds(&b, H "rules:\n  - deny: 8080/tcp\n    from: 10.1.0.0/16\n"); /* line 4 */
	for (int i = 0; i < 4000; i++) { /* lines 6-8005 */
		char line[80];
		snprintf(line, sizeof(line), "  - deny: 8080/tcp\n    from: 10.2.%d.%d\n", i / 256,
				i % 256);
		pc_buf_adds(&b, line);
	}
	pc_buf_adds(&b, "  - allow: 8080/tcp\n    from: 10.2.0.0/30\n" /* 8006: the union only */
			"  - allow: 8080/tcp\n    from: 10.1.2.3\n" /* 8008: under line 4 */
			"  - allow: 8080/tcp\n    from: 10.2.15.7\n" /* 8010: under line 7700 */
			"  - allow: 8080/tcp\n    direction: output\n    to: 192.0.2.1\n"
			"  - deny: 8080/tcp\n    direction: output\n    to: 192.0.2.1\n"); /* 8015
											    */
	check_text(&c, b.data);
	assert_int_equal(c.rc, 0);
	leave_out_port_findings(&c);
	assert_int_equal(c.d.n, 3);
	assert_string_equal(c.d.v[0].code, "rule-shadowed");
	assert_int_equal(c.d.v[0].line, 8008);
	assert_non_null(strstr(c.d.v[0].msg, "p.yaml:4:5"));
	assert_string_equal(c.d.v[1].code, "rule-shadowed");
	assert_int_equal(c.d.v[1].line, 8010);
	assert_non_null(strstr(c.d.v[1].msg, "p.yaml:7700:5"));
	assert_string_equal(c.d.v[2].code, "rule-shadowed");
	assert_int_equal(c.d.v[2].line, 8015);
	assert_non_null(strstr(c.d.v[2].msg, "p.yaml:8012:5"));
	done(&c);
	pc_buf_finish(&b);
}

/*
 * A rule naming one network points at the network's prefixes; rules writing
 * the same union with a network share one; a union whose merge warns is made
 * per rule, and each rule gives its warning.
 */
static void test_rule_sets_shared(void **state)
{
	struct checked c;

	(void)state;
	check_text(&c, H "networks:\n  big: [10.0.0.0/24, 10.0.2.0/24, \"2001:db8::/64\"]\n"
			 "rules:\n"
			 "  - allow: 22/tcp\n    from: big\n" /* 0 */
			 "  - allow: 23/tcp\n    from: big\n" /* 1 */
			 "  - allow: 24/tcp\n    from: [big, 192.0.2.1]\n" /* 2 */
			 "  - allow: 25/tcp\n    from: [big, 192.0.2.1]\n" /* 3 */
			 "  - allow: 26/tcp\n    from: [big, 10.0.0.7]\n" /* 4, line 15 */
			 "  - allow: 27/tcp\n    from: [big, 10.0.0.7]\n"); /* 5, line 17 */
	assert_int_equal(c.rc, 0);
	const struct pc_rule *r = c.p.rules;
	assert_int_equal(c.p.nrules, 6);
	assert_ptr_equal(r[0].src.v4, c.p.networks[0].set.v4);
	assert_ptr_equal(r[1].src.v6, c.p.networks[0].set.v6);
	assert_int_equal(r[1].src.nv4, 2);
	assert_int_equal(r[2].src.nv4, 3);
	assert_ptr_equal(r[2].src.v4, r[3].src.v4);
	assert_ptr_not_equal(r[2].src.v4, r[0].src.v4);
	assert_int_equal(r[4].src.nv4, 2);
	assert_ptr_not_equal(r[4].src.v4, r[5].src.v4);
	leave_out_port_findings(&c);
	assert_int_equal(c.d.n, 2);
	assert_string_equal(c.d.v[0].code, "network-overlap");
	assert_int_equal(c.d.v[0].line, 15);
	assert_string_equal(c.d.v[1].code, "network-overlap");
	assert_int_equal(c.d.v[1].line, 17);
	done(&c);
}

/*
 * A network's list mostly in order (addresses added at its start, middle or
 * end, written twice, or many out of order) resolves to the sorted set, and
 * of two equal addresses the later one is said.
 */
static void near_sorted_case(const uint32_t *vals, size_t n)
{
	struct pc_buf b;
	struct checked c;
	uint32_t *want = calloc(n, sizeof(*want));
	unsigned *dup_lines = calloc(n, sizeof(*dup_lines));
	size_t nwant = 0, ndup = 0;

	assert_non_null(want);
	assert_non_null(dup_lines);
	pc_buf_init(&b);
	pc_buf_adds(&b, H "networks:\n  big:\n");
	for (size_t i = 0; i < n; i++)
		pc_buf_printf(&b, "    - 10.%u.%u.%u\n", vals[i] >> 16 & 255, vals[i] >> 8 & 255,
				vals[i] & 255);
	pc_buf_adds(&b, "rules:\n  - allow: 22/tcp\n    from: big\n");
	/* The distinct values in order, and each repeat's line (of its second writing on). */
	for (uint32_t v = 0, left = (uint32_t)n; left; v++) {
		bool seen = false;
		for (size_t i = 0; i < n; i++) {
			if (vals[i] != v)
				continue;
			left--;
			if (seen)
				dup_lines[ndup++] = (unsigned)i + 5;
			else
				want[nwant++] = v;
			seen = true;
		}
	}
	check_text(&c, b.data);
	assert_int_equal(c.rc, 0);
	const struct pc_addrset *set = &c.p.networks[0].set;
	assert_int_equal(set->nv4, nwant);
	for (size_t i = 0; i < nwant; i++) {
		const uint8_t *a = set->v4[i].bytes;
		assert_int_equal((uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3], want[i]);
	}
	leave_out_port_findings(&c);
	size_t k = 0;
	for (size_t i = 0; i < c.d.n; i++) {
		if (strcmp(c.d.v[i].code, "network-overlap"))
			continue;
		assert_true(k < ndup);
		assert_int_equal(c.d.v[i].line, dup_lines[k++]);
	}
	assert_int_equal(k, ndup);
	done(&c);
	pc_buf_finish(&b);
	free(want);
	free(dup_lines);
}

static void test_network_nearly_sorted(void **state)
{
	enum {
		N = 1000
	};
	uint32_t v[N + 64];

	(void)state;
	for (unsigned shape = 0; shape < 9; shape++) {
		size_t n = 0;
		for (uint32_t i = 0; i < N; i++)
			v[n++] = 10 * i + 5;
		switch (shape) {
		case 0: /* a larger address at the start */
			memmove(v + 1, v, n++ * sizeof(*v));
			v[0] = 99999;
			break;
		case 1: /* a smaller one at the end */
			v[n++] = 1;
			break;
		case 2: /* a larger and a smaller in the middle */
			memmove(v + 502, v + 500, (n - 500) * sizeof(*v));
			n += 2;
			v[500] = 99999;
			v[501] = 2;
			break;
		case 3: /* one written twice: first at the start */
			memmove(v + 1, v, n++ * sizeof(*v));
			v[0] = 10 * 700 + 5;
			break;
		case 4: /* twice: again at the end, and two adjacent swapped */
			v[n++] = 10 * 3 + 5;
			v[10] = 10 * 11 + 5;
			v[11] = 10 * 10 + 5;
			break;
		case 5: /* 20 out of order: few enough to be taken aside */
		case 6: /* 60: too many, the whole list sorted */
			for (uint32_t i = 0; i < (shape == 5 ? 20u : 60u); i++)
				v[(i * 47 + 3) % N] = (i * 7919) % (10 * N);
			break;
		case 7: /* in reverse */
			for (size_t i = 0; i < n / 2; i++) {
				uint32_t t = v[i];
				v[i] = v[n - 1 - i];
				v[n - 1 - i] = t;
			}
			break;
		case 8: /* two halves swapped */
			for (size_t i = 0; i < n; i++)
				v[i] = 10 * (uint32_t)((i + N / 2) % N) + 5;
			break;
		}
		near_sorted_case(v, n);
	}
}

/*
 * Sets of more than 16 prefixes are looked up by binary search in one sorted
 * array of every wide set's prefixes: a rule inside one (a host, a smaller
 * set, an IPv6 prefix) is shadowed by the earlier rule that uses it, never
 * by a later one, and two wide sets holding the same prefix are both found.
 */
static void test_shadowing_wide_sets(void **state)
{
	struct pc_buf b;
	struct checked c;

	(void)state;
	pc_buf_init(&b);
	pc_buf_adds(&b, H "networks:\n  big: [");
	for (int i = 1; i <= 20; i++)
		pc_buf_printf(&b, "10.0.%d.0/24, ", i * 2);
	pc_buf_adds(&b, "\"2001:db8:1::/48\"]\n  half: [");
	for (int i = 1; i <= 17; i++)
		pc_buf_printf(&b, "10.0.%d.0/24, ", i * 2);
	pc_buf_adds(&b, "10.9.0.1]\n  other: [");
	for (int i = 1; i <= 17; i++)
		pc_buf_printf(&b, "10.1.%d.0/24, ", i);
	pc_buf_adds(&b, "10.0.40.0/24]\n"
			"rules:\n"
			"  - allow: 22/tcp\n    from: 10.0.8.9\n" /* 0, line 8: before big's rule */
			"  - allow: 22/tcp\n    from: big\n" /* 1, line 10 */
			"  - allow: 22/tcp\n    from: 10.0.8.9\n" /* 2, line 12: repeats rule 0 */
			"  - allow: 22/tcp\n    from: \"2001:db8:1:5::/64\"\n" /* 3, line 14 */
			"  - allow: 22/tcp\n    from: 10.0.9.1\n" /* 4, line 16: between */
			"  - allow: 22/tcp\n    from: half\n" /* 5, line 18: 10.9.0.1 is out */
			"  - allow: 80/tcp\n    from: other\n" /* 6, line 20 */
			"  - allow: 80/tcp\n    from: 10.0.40.7\n" /* 7, line 22: other holds it */
			"  - allow: 22/tcp\n    from: 10.0.40.7\n"); /* 8, line 24: big holds it */
	check_text(&c, b.data);
	assert_int_equal(c.rc, 0);
	leave_out_port_findings(&c);
	assert_int_equal(c.d.n, 4);
	assert_string_equal(c.d.v[0].code, "rule-duplicate");
	assert_int_equal(c.d.v[0].line, 12);
	assert_non_null(strstr(c.d.v[0].msg, "p.yaml:8:5"));
	assert_string_equal(c.d.v[1].code, "rule-shadowed");
	assert_int_equal(c.d.v[1].line, 14);
	assert_non_null(strstr(c.d.v[1].msg, "p.yaml:10:5"));
	assert_string_equal(c.d.v[2].code, "rule-shadowed");
	assert_int_equal(c.d.v[2].line, 22);
	assert_non_null(strstr(c.d.v[2].msg, "p.yaml:20:5"));
	assert_string_equal(c.d.v[3].code, "rule-shadowed");
	assert_int_equal(c.d.v[3].line, 24);
	assert_non_null(strstr(c.d.v[3].msg, "p.yaml:10:5"));
	done(&c);
	/* One wide set alone on its side and direction: searched in its own arrays. */
	b.len = 0;
	pc_buf_adds(&b, H "networks:\n  big: [");
	for (int i = 1; i <= 20; i++)
		pc_buf_printf(&b, "10.0.%d.0/24, ", i * 2);
	pc_buf_adds(&b, "\"2001:db8:1::/48\"]\n"
			"rules:\n"
			"  - allow: 22/tcp\n    from: big\n" /* line 6 */
			"  - allow: 22/tcp\n    from: 10.0.9.1\n" /* line 8: between */
			"  - allow: 22/tcp\n    from: \"2001:db8:1:5::/64\"\n" /* line 10 */
			"  - allow: 22/tcp\n    from: 10.0.40.7\n"); /* line 12 */
	check_text(&c, b.data);
	assert_int_equal(c.rc, 0);
	leave_out_port_findings(&c);
	assert_int_equal(c.d.n, 2);
	assert_int_equal(c.d.v[0].line, 10);
	assert_non_null(strstr(c.d.v[0].msg, "p.yaml:6:5"));
	assert_int_equal(c.d.v[1].line, 12);
	assert_non_null(strstr(c.d.v[1].msg, "p.yaml:6:5"));
	done(&c);
	pc_buf_finish(&b);
}

/* Interface lists, wildcards and negation, matched as the kernel matches iifname. */
static void test_evaluate_interface_sets(void **state)
{
	static const struct {
		const char *packet;
		bool by_rule;
		size_t rule;
	} want[] = {
			{"tcp 192.0.2.9 -> 22 in eth0", true, 0},
			{"tcp 192.0.2.9 -> 22 in eth1", true, 0},
			{"tcp 192.0.2.9 -> 22 in eth2", false, 0},
			{"tcp 192.0.2.9 -> 80 in vlan1", true, 1}, /* the stem itself matches */
			{"tcp 192.0.2.9 -> 80 in vlan10", true, 1},
			{"tcp 192.0.2.9 -> 80 in vlan2", false, 0},
			{"tcp 192.0.2.9 -> 88 in eth0", false, 0},
			{"tcp 192.0.2.9 -> 88 in eth1", true, 2},
			{"tcp 192.0.2.9 -> 88 in lo0", true, 2},
			{"tcp 192.0.2.9 -> 89 in eth0", false, 0},
			{"tcp 192.0.2.9 -> 89 in eth1", false, 0},
			{"tcp 192.0.2.9 -> 89 in wlan0", true, 3},
			{"tcp 192.0.2.9 -> 90 in vlan5", false, 0},
			{"tcp 192.0.2.9 -> 90 in eth5", true, 4},
			{"tcp 192.0.2.9 -> 91 in wg7", true, 6},
			{"tcp 192.0.2.9 -> 91 in eth4", false, 0},
			{"tcp 192.0.2.9 -> 91 in eth3", true, 6},
			{"udp -> 192.0.2.9 53 out wg0", true, 5},
			{"udp -> 192.0.2.9 53 out wg1", false, 0},
	};
	struct checked c;
	struct pc_packet pkt;
	struct pc_decision dec;
	struct pc_packet_error err;

	(void)state;
	check_text(&c, H "rules:\n"
			 "  - deny: 22/tcp\n    interface: [eth0, eth1]\n"
			 "  - allow: 80/tcp\n    interface: vlan1*\n"
			 "  - allow: 88/tcp\n    interface: {not: eth0}\n"
			 "  - allow: 89/tcp\n    interface: {not: [eth0, eth1]}\n"
			 "  - allow: 90/tcp\n    interface: {not: vlan*}\n"
			 "  - allow: 53/udp\n    direction: output\n    interface: {not: wg1}\n"
			 "  - allow: 91/tcp\n    interface: [eth3, wg*]\n");
	assert_int_equal(c.rc, 0);
	for (size_t i = 0; i < PC_ARRAY_SIZE(want); i++) {
		if (pc_packet_parse(want[i].packet, &pkt, &err))
			fail_msg("%s: %s", want[i].packet, err.msg);
		pc_policy_evaluate(&c.p, &pkt, &dec);
		if (dec.by_rule != want[i].by_rule || (dec.by_rule && dec.rule != want[i].rule))
			fail_msg("%s: by rule %d (%zu)", want[i].packet, dec.by_rule, dec.rule + 1);
	}
	/* no interface given: every rule of the port that names one is passed over */
	assert_int_equal(pc_packet_parse("tcp 192.0.2.9 -> 88", &pkt, &err), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_int_equal(dec.skipped_interface, 1);
	/* the interface goes with the direction: in for input, out for output */
	assert_int_equal(pc_packet_parse("tcp 192.0.2.9 -> 88 out eth0", &pkt, &err), -1);
	assert_int_equal(pc_packet_parse("udp -> 192.0.2.9 53 in eth0", &pkt, &err), -1);
	assert_int_equal(pc_packet_parse("tcp 192.0.2.9 -> 88 in 'a", &pkt, &err), -1);
	done(&c);
}

/* The forms of interface: as read into the IR, and as explain writes them. */
static void test_interface_forms(void **state)
{
	static const struct {
		const char *yaml, *text;
		size_t n;
		bool negate;
		unsigned col;
	} want[] = {
			{"eth0", "eth0", 1, false, 16},
			{"[eth0, wg*]", "{eth0, wg*}", 2, false, 16},
			{"[eth0]", "eth0", 1, false, 16},
			{"vlan1*", "vlan1*", 1, false, 16},
			{"{not: eth0}", "not eth0", 1, true, 16},
			{"{not: [eth0, wg*]}", "not {eth0, wg*}", 2, true, 16},
	};
	char text[PC_IFACES_TEXT_MAX], yaml[256];

	(void)state;
	for (size_t i = 0; i < PC_ARRAY_SIZE(want); i++) {
		struct checked c;
		snprintf(yaml, sizeof(yaml), H "rules:\n  - allow: 22/tcp\n    interface: %s\n",
				want[i].yaml);
		check_text(&c, yaml);
		assert_int_equal(c.rc, 0);
		const struct pc_ifaces *s = &c.p.rules[0].interface;
		assert_int_equal(s->n, want[i].n);
		assert_int_equal(s->negate, want[i].negate);
		assert_int_equal(s->loc.line, 5);
		assert_int_equal(s->loc.col, want[i].col);
		pc_ifaces_text(text, s);
		assert_string_equal(text, want[i].text);
		done(&c);
	}
}

/* Which interfaces hold which: wildcards, lists, negation; unsure is no. */
static void test_ifaces_cover(void **state)
{
	static const char *const eth0[] = {"eth0"}, *const eth1[] = {"eth1"},
				 *const eths[] = {"eth*"}, *const both[] = {"eth0", "eth1"},
				 *const et[] = {"et"}, *const eth10[] = {"eth10*"};
	const struct pc_ifaces any = {0}, a0 = {eth0, 1, false, {0}}, a1 = {eth1, 1, false, {0}},
			       w = {eths, 1, false, {0}}, l = {both, 2, false, {0}},
			       n0 = {eth0, 1, true, {0}}, nw = {eths, 1, true, {0}},
			       nl = {both, 2, true, {0}}, e = {et, 1, false, {0}},
			       w10 = {eth10, 1, false, {0}};

	(void)state;
	assert_true(pc_ifaces_cover(&any, &nl));
	assert_false(pc_ifaces_cover(&a0, &any));
	assert_true(pc_ifaces_cover(&w, &a0));
	assert_true(pc_ifaces_cover(&w, &l));
	assert_true(pc_ifaces_cover(&w, &w10));
	assert_false(pc_ifaces_cover(&w10, &w));
	assert_false(pc_ifaces_cover(&w, &e));
	assert_true(pc_ifaces_cover(&l, &a1));
	assert_false(pc_ifaces_cover(&a0, &l));
	assert_true(pc_ifaces_cover(&n0, &a1));
	assert_false(pc_ifaces_cover(&n0, &w)); /* eth* holds eth0 */
	assert_true(pc_ifaces_cover(&nw, &e));
	assert_false(pc_ifaces_cover(&nw, &w10));
	assert_true(pc_ifaces_cover(&n0, &nl)); /* not {eth0, eth1} lies within not eth0 */
	assert_false(pc_ifaces_cover(&nl, &n0));
	assert_true(pc_ifaces_cover(&n0, &nw));
	assert_false(pc_ifaces_cover(&l, &n0));
	assert_true(pc_ifaces_match(&nw, "wlan0"));
	assert_false(pc_ifaces_match(&nw, "eth"));
	assert_true(pc_ifaces_match(&any, "eth0"));
}

/* A rule on eth* shadows a later one on eth0; one on every interface but eth0 covers less. */
static void test_shadowing_interfaces(void **state)
{
	struct checked c;

	(void)state;
	check_text(&c, H
			"rules:\n"
			"  - allow: 8080/tcp\n    interface: eth*\n" /* 4 */
			"  - allow: 8080/tcp\n    interface: eth0\n" /* 6: shadowed by 4 */
			"  - allow: 8080/tcp\n    interface: [eth1, eth2]\n" /* 8: by 4 */
			"  - allow: 8080/tcp\n    interface: wlan0\n" /* 10: not */
			"  - allow: 9090/tcp\n    interface: {not: wlan0}\n" /* 12 */
			"  - allow: 9090/tcp\n    interface: wlan*\n" /* 14: not */
			"  - allow: 9090/tcp\n    interface: {not: [wlan0, eth0]}\n" /* 16: by 12 */
			"  - allow: 9090/tcp\n    interface: eth0\n" /* 18: by 12 */
			"  - allow: 9090/tcp\n    interface: wlan0\n"); /* 20: by 14 */
	assert_int_equal(c.rc, 0);
	assert_int_equal(c.d.n, 5);
	static const unsigned line[] = {6, 8, 16, 18, 20};
	static const char *const by[] = {
			"p.yaml:4:5", "p.yaml:4:5", "p.yaml:12:5", "p.yaml:12:5", "p.yaml:14:5"};
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(c.d.v[i].code, "rule-shadowed");
		assert_int_equal(c.d.v[i].line, line[i]);
		assert_non_null(strstr(c.d.v[i].msg, by[i]));
	}
	done(&c);
}

/*
 * Rules of the same port and addresses that differ by their options: the
 * first of them without a limit, on no interface or on the later rule's,
 * is the one named (a rule with a limit covers nothing).
 */
static void test_shadowing_same_geometry(void **state)
{
	struct checked c;

	(void)state;
	check_text(&c, H "rules:\n"
			 "  - allow: 8080/tcp\n    from: 10.0.0.1\n    interface: eth0\n" /* 4 */
			 "    limit: 5/second\n"
			 "  - allow: 8080/tcp\n    from: 10.0.0.1\n    interface: eth1\n" /* 8 */
			 "  - allow: 8080/tcp\n    from: 10.0.0.1\n    limit: 5/second\n" /* 11 */
			 "  - allow: 8080/tcp\n    from: 10.0.0.1\n    interface: eth1\n" /* 14 */
			 "    log: true\n"
			 "  - allow: 8080/tcp\n    from: 10.0.0.1\n    interface: eth0\n" /* 18 */
			 "  - allow: 8080/tcp\n    from: 10.0.0.1\n" /* 21 */
			 "  - allow: 8080/tcp\n    from: 10.0.0.1\n    interface: eth2\n" /* 23 */
			 "  - allow: 8080/tcp\n    from: 10.0.0.1\n    interface: eth0\n"); /* 26 */
	assert_int_equal(c.rc, 0);
	/* 18 and 21: only rules with a limit or on another interface come before */
	assert_int_equal(c.d.n, 3);
	assert_int_equal(c.d.v[0].line, 14);
	assert_non_null(strstr(c.d.v[0].msg, "p.yaml:8:5"));
	assert_int_equal(c.d.v[1].line, 23);
	assert_non_null(strstr(c.d.v[1].msg, "p.yaml:21:5"));
	assert_int_equal(c.d.v[2].line, 26);
	assert_non_null(strstr(c.d.v[2].msg, "p.yaml:18:5"));
	done(&c);
}

/*
 * Suggestions for unknown names: searched once per distinct name, and not at
 * all for errors past hints_max (never shown).
 */
static void test_hints_where_shown(void **state)
{
	struct checked c;
	const char *text = H "networks:\n  admins: [192.0.2.0/24]\nrules:\n"
			     "  - allow: kerbros\n" /* 6 */
			     "  - allow: kerbros\n" /* 7 */
			     "  - allow: kpasswd\n    from: admns\n" /* 8, 9 */
			     "  - allow: kerbros\n" /* 10 */
			     "  - allow: kpasswd\n    from: admns\n"; /* 11, 12 */

	(void)state;
	pc_policy_init(&c.p);
	pc_diags_init(&c.d);
	c.d.hints_max = 3;
	c.reg = pc_registry_create();
	assert_int_equal(pc_policy_load_mem(&c.p, "p.yaml", text, strlen(text), &c.d), 0);
	assert_int_equal(pc_policy_resolve(&c.p, c.reg, &c.d), -1);
	assert_int_equal(c.d.n, 5); /* no rule-duplicate: those rules have errors */
	assert_int_equal(c.d.v[0].line, 6);
	assert_string_equal(c.d.v[0].hint, "did you mean 'kerberos', 'kerberos4' or 'kerberos5'?");
	assert_string_equal(c.d.v[1].hint, "did you mean 'kerberos', 'kerberos4' or 'kerberos5'?");
	assert_int_equal(c.d.v[2].line, 9);
	assert_string_equal(c.d.v[2].hint, "did you mean 'admins'?");
	assert_int_equal(c.d.v[3].line, 10);
	assert_null(c.d.v[3].hint);
	assert_int_equal(c.d.v[4].line, 12);
	assert_null(c.d.v[4].hint);
	done(&c);
}

/*
 * The loaders' one contract: a policy that cannot be read (a device, a FIFO
 * nobody writes, a directory, a missing file) is PC_LOAD_UNREADABLE, one
 * that was read but is wrong PC_LOAD_INVALID; an include that cannot be read
 * is the including file's error.
 */
/*
 * A policy that names only ports reads no layer's name tables: resolved
 * with the pages wholly inside the embedded layers' name tables made
 * unreadable, a read of one is a fault, caught and said here.  (The check
 * of a KDC configuration's iprop row looked "iprop" up in every layer.)
 */
static sigjmp_buf name_fault_jmp;
static volatile uintptr_t name_fault_addr;

static void on_name_fault(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	name_fault_addr = (uintptr_t)si->si_addr;
	siglongjmp(name_fault_jmp, 1);
}

struct name_table {
	const char *what;
	uintptr_t lo, hi; /* the pages wholly inside it */
};

static size_t name_tables(const struct pc_layer *l, struct name_table *out)
{
	const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	const struct {
		const char *what;
		const void *p;
		size_t len;
	} t[] = {
			{"slots", l->slots, l->nslots * sizeof(*l->slots)},
			{"names", l->names, l->nnames * sizeof(*l->names)},
			{"name_text", l->name_text, l->name_text_len},
			{"name_offs", l->name_offs, l->nnames * sizeof(*l->name_offs)},
			{"name_sets", l->name_sets, l->nnames * sizeof(*l->name_sets)},
			{"name_lens", l->name_lens, l->nnames * sizeof(*l->name_lens)},
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uintptr_t lo = ((uintptr_t)t[i].p + page - 1) & ~(page - 1);
		uintptr_t hi = ((uintptr_t)t[i].p + t[i].len) & ~(page - 1);
		if (t[i].p && lo < hi)
			out[n++] = (struct name_table){t[i].what, lo, hi};
	}
	return n;
}

static void test_ports_read_no_name_table(void **state)
{
	struct name_table tabs[12];
	size_t n = name_tables(&pc_embedded_iana, tabs);
	n += name_tables(&pc_embedded_practice, tabs + n);
	struct sigaction sa = {0}, old_segv, old_bus;
	struct checked c;
	volatile int faulted = 0;

	(void)state;
	assert_true(n >= 4); /* the IANA layer's tables span many pages */
	sa.sa_sigaction = on_name_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mprotect((void *)tabs[i].lo, tabs[i].hi - tabs[i].lo, PROT_NONE),
				0);
	if (sigsetjmp(name_fault_jmp, 1) == 0)
		check_text(&c, H "rules:\n  - allow: [88/tcp, 749/tcp, 464/udp]\n"
				 "    from: 192.0.2.1\n");
	else
		faulted = 1;
	for (size_t i = 0; i < n; i++)
		mprotect((void *)tabs[i].lo, tabs[i].hi - tabs[i].lo, PROT_READ);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	if (faulted) {
		for (size_t i = 0; i < n; i++)
			if (name_fault_addr >= tabs[i].lo && name_fault_addr < tabs[i].hi)
				fail_msg("a port-only policy read the name table %s", tabs[i].what);
		fail_msg("a fault at %#lx", (unsigned long)name_fault_addr);
	}
	assert_int_equal(c.rc, 0);
	done(&c);
}

static void test_load_status(void **state)
{
	char dir[] = "/tmp/pc-load-XXXXXX";
	struct pc_policy p;
	struct pc_diags d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	char *fifo = xasprintf("%s/fifo", dir), *sub = xasprintf("%s/dir", dir);
	char *missing = xasprintf("%s/missing.yaml", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	char *bad = write_file(dir, "bad.yaml", "version: 1\npolicy: t\nrules: 7\n");
	char *inc = write_file(dir, "inc.yaml",
			"version: 1\npolicy: t\ninclude: fifo\n"
			"rules:\n  - allow: ssh\n");
	const char *unreadable[] = {"/dev/zero", fifo, sub, missing};

	for (size_t i = 0; i < PC_ARRAY_SIZE(unreadable); i++) {
		pc_policy_init(&p);
		pc_diags_init(&d);
		assert_int_equal(pc_policy_load(&p, unreadable[i], &d), PC_LOAD_UNREADABLE);
		assert_true(pc_policy_io_error(&p));
		assert_non_null(find_diag(&d, "io"));
		pc_policy_finish(&p);
		pc_diags_finish(&d);
	}
	const char *invalid[] = {bad, inc};
	for (size_t i = 0; i < PC_ARRAY_SIZE(invalid); i++) {
		pc_policy_init(&p);
		pc_diags_init(&d);
		assert_int_equal(pc_policy_load(&p, invalid[i], &d), PC_LOAD_INVALID);
		assert_false(pc_policy_io_error(&p));
		pc_policy_finish(&p);
		pc_diags_finish(&d);
	}
	pc_policy_init(&p);
	pc_diags_init(&d);
	assert_int_equal(pc_policy_load_mem(&p, "m.yaml", "rules: 7\n", 9, &d), PC_LOAD_INVALID);
	pc_policy_finish(&p);
	pc_diags_finish(&d);

	unlink(fifo);
	unlink(bad);
	unlink(inc);
	rmdir(sub);
	rmdir(dir);
	free(fifo);
	free(sub);
	free(missing);
	free(bad);
	free(inc);
}

/* A multi-homed KDC: input rules name the addresses its daemons listen on. */
static void test_input_destinations(void **state)
{
	struct checked c;
	struct pc_packet pkt;
	struct pc_packet_error err;
	struct pc_decision dec;

	(void)state;
	check_text(&c, H "networks:\n  kdc-listen: [192.0.2.10, \"2001:db8::10\"]\n"
			 "rules:\n"
			 "  - allow: kerberos\n    to: kdc-listen\n"
			 "  - allow: kerberos-adm\n    protocol: tcp\n    from: 198.51.100.0/24\n"
			 "    to: 10.1.0.5\n");
	assert_int_equal(c.rc, 0);
	assert_null(find_diag(&c.d, "rule-peer"));
	const struct pc_rule *r = &c.p.rules[0];
	assert_int_equal(r->direction, PC_DIR_INPUT);
	assert_int_equal(r->nto, 1);
	assert_int_equal(r->dst.nv4, 1);
	assert_int_equal(r->dst.nv6, 1);
	assert_int_equal(r->dst.v4[0].len, 32);
	assert_int_equal(r->dst.v6[0].len, 128);
	assert_int_equal(c.p.rules[1].dst.nv4, 1);
	assert_int_equal(c.p.rules[1].dst.nv6, 0);

	assert_int_equal(pc_packet_parse("udp 203.0.113.1 -> 192.0.2.10 88", &pkt, &err), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_true(dec.by_rule);
	assert_int_equal(dec.rule, 0);
	assert_int_equal(pc_packet_parse("udp 203.0.113.1 -> 192.0.2.11 88", &pkt, &err), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_false(dec.by_rule);
	assert_int_equal(dec.skipped_destination, 0);
	assert_int_equal(pc_packet_parse("tcp 2001:db8:1::1 -> 2001:db8::10 88", &pkt, &err), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_true(dec.by_rule);
	/* both ends count: the source of rule 2, then its destination */
	assert_int_equal(pc_packet_parse("tcp 198.51.100.9 -> 10.1.0.5 749", &pkt, &err), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_true(dec.by_rule);
	assert_int_equal(dec.rule, 1);
	assert_int_equal(pc_packet_parse("tcp 203.0.113.9 -> 10.1.0.5 749", &pkt, &err), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_false(dec.by_rule);
	assert_int_equal(pc_packet_parse("tcp 198.51.100.9 -> 10.1.0.6 749", &pkt, &err), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_false(dec.by_rule);
	/* no destination given: the rule is passed over and counted, as for an interface */
	assert_int_equal(pc_packet_parse("tcp 198.51.100.9 -> 749", &pkt, &err), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_false(dec.by_rule);
	assert_int_equal(dec.skipped_destination, 1);
	assert_int_equal(dec.verdict, PC_VERDICT_DROP);
	done(&c);

	/* the shadowing check compares destinations too */
	check_text(&c, H "rules:\n"
			 "  - allow: kerberos\n    to: 192.0.2.0/24\n"
			 "  - deny: kerberos\n    to: 192.0.2.10\n"
			 "  - allow: kpasswd\n    to: 192.0.2.10\n"
			 "  - deny: kpasswd\n    to: 192.0.2.0/24\n");
	const struct pc_diag *d = find_diag(&c.d, "rule-shadowed");
	assert_non_null(d);
	assert_int_equal(d->line, 6);
	assert_int_equal(d->col, 5);
	size_t shadowed = 0;
	for (size_t i = 0; i < c.d.n; i++)
		shadowed += !strcmp(c.d.v[i].code, "rule-shadowed");
	assert_int_equal(shadowed, 1);
	done(&c);
}

/* Every form of a packet, and every refusal at its column. */
static void test_packet_parse(void **state)
{
	static const struct {
		const char *text;
		enum pc_direction dir;
		uint8_t family;
		bool src, dst;
		uint16_t port;
		const char *service, *iface;
	} ok[] = {
			{"tcp 192.0.2.7 -> 88", PC_DIR_INPUT, 4, true, false, 88, "", ""},
			{"tcp 198.51.100.7 -> 192.0.2.10 88", PC_DIR_INPUT, 4, true, true, 88, "",
					""},
			{"udp 2001:db8::7 -> 2001:db8::10 kerberos in eth0", PC_DIR_INPUT, 6, true,
					true, 0, "kerberos", "eth0"},
			{"tcp 192.0.2.7 -> kerberos", PC_DIR_INPUT, 4, true, false, 0, "kerberos",
					""},
			{"tcp 192.0.2.7 -> 22 in lo", PC_DIR_INPUT, 4, true, false, 22, "", "lo"},
			{"tcp -> 192.0.2.11 754", PC_DIR_OUTPUT, 4, false, true, 754, "", ""},
			{"udp -> 2001:db8::1 kerberos out eth1.20", PC_DIR_OUTPUT, 6, false, true,
					0, "kerberos", "eth1.20"},
			{"forward tcp 10.0.0.1 -> 389", PC_DIR_FORWARD, 4, true, false, 389, "",
					""},
			{"forward\ttcp 10.0.0.1 -> 192.0.2.70  ldap in eth2", PC_DIR_FORWARD, 4,
					true, true, 0, "ldap", "eth2"},
	};
	static const struct {
		const char *text;
		unsigned col;
		const char *msg;
	} bad[] = {
			{"", 1, "expected a protocol"},
			{"icmp 192.0.2.7 -> 88", 1, "expected a protocol"},
			{"forward -> 192.0.2.7 88", 9, "expected a protocol"},
			{"tcp 1.2.3 -> 4", 5, "'1.2.3' is not an IPv4"},
			{"tcp 192.0.2.7 88", 15, "expected '->'"},
			{"tcp 192.0.2.7 ->", 17, "expected a port or a service"},
			{"tcp 192.0.2.7 -> 0", 18, "'0' is not a port"},
			{"tcp 192.0.2.7 -> 65536", 18, "'65536' is not a port"},
			{"tcp 192.0.2.7 -> 192.0.2.300 88", 18, "'192.0.2.300' is not an IPv4"},
			{"tcp 192.0.2.7 -> 2001:db8::1 88", 18, "is IPv6, the source IPv4"},
			{"tcp 192.0.2.7 -> 1.2.3.4 88 99", 29, "unexpected '99'"},
			{"tcp 192.0.2.7 -> 88 out eth0", 21, "'in IFACE', not 'out'"},
			{"tcp 192.0.2.7 -> 88 in", 23, "expected an interface name"},
			{"tcp 192.0.2.7 -> 88 in eth0;x", 24, "not an interface name"},
			{"tcp 192.0.2.7 -> 88 in eth0 x", 29, "unexpected 'x'"},
			{"tcp 192.0.2.7 -> k$rb", 18, "neither a port"},
			{"tcp -> 192.0.2.1 22 in eth0", 21, "'out IFACE', not 'in'"},
			{"tcp -> 22", 8, "'22' is not an IPv4"},
			{"forward tcp -> 1.2.3.4 22", 13, "names its source first"},
			{"tcp 1 2 3 4 5 6 7 8 9", 19, "too many words"},
	};
	struct pc_packet pkt;
	struct pc_packet_error e;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (pc_packet_parse(ok[i].text, &pkt, &e) != 0)
			fail_msg("'%s': %u: %s", ok[i].text, e.col, e.msg);
		assert_int_equal(pkt.direction, ok[i].dir);
		assert_int_equal(pkt.family, ok[i].family);
		assert_int_equal(pkt.has_src, ok[i].src);
		assert_int_equal(pkt.has_dst, ok[i].dst);
		assert_int_equal(pkt.port, ok[i].port);
		assert_string_equal(pkt.service, ok[i].service);
		assert_string_equal(pkt.iface, ok[i].iface);
	}
	assert_int_equal(pc_packet_parse("tcp 198.51.100.7 -> 192.0.2.10 88", &pkt, &e), 0);
	assert_int_equal(pkt.src[0], 198);
	assert_int_equal(pkt.dst[3], 10);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pc_packet_parse(bad[i].text, &pkt, &e) == 0)
			fail_msg("'%s' was accepted", bad[i].text);
		if (e.col != bad[i].col || !strstr(e.msg, bad[i].msg))
			fail_msg("'%s': got %u: %s; want %u: %s", bad[i].text, e.col, e.msg,
					bad[i].col, bad[i].msg);
	}
}

/* A service name instead of a port, through the policy's own registry. */
static void test_packet_service(void **state)
{
	struct checked c;
	struct pc_packet pkt;
	struct pc_packet_error e;

	(void)state;
	check_text(&c, H "registry:\n  services:\n    kdc-metrics: {port: 9102, protocol: tcp}\n"
			 "rules:\n  - allow: kerberos\n");
	assert_int_equal(c.rc, 0);
	assert_int_equal(pc_packet_parse("udp 192.0.2.7 -> kerberos", &pkt, &e), 0);
	assert_int_equal(pc_packet_resolve(c.reg, &pkt, &e), 0);
	assert_int_equal(pkt.port, 88);
	assert_int_equal(pc_packet_parse("tcp 192.0.2.7 -> 192.0.2.1 kdc-metrics", &pkt, &e), 0);
	assert_int_equal(pc_packet_resolve(c.reg, &pkt, &e), 0);
	assert_int_equal(pkt.port, 9102);
	assert_int_equal(pc_packet_parse("tcp 192.0.2.7 -> 22", &pkt, &e), 0);
	assert_int_equal(pc_packet_resolve(c.reg, &pkt, &e), 0);
	assert_int_equal(pkt.port, 22);
	assert_int_equal(pc_packet_parse("tcp 192.0.2.7 -> kerbros", &pkt, &e), 0);
	assert_int_equal(pc_packet_resolve(c.reg, &pkt, &e), -1);
	assert_int_equal(e.col, 18);
	assert_string_equal(e.msg, "unknown service 'kerbros'; did you mean 'kerberos'?");
	assert_int_equal(pc_packet_parse("udp 192.0.2.7 -> kdc-metrics", &pkt, &e), 0);
	assert_int_equal(pc_packet_resolve(c.reg, &pkt, &e), -1);
	assert_string_equal(e.msg, "'kdc-metrics' has no udp port");
	assert_int_equal(pc_packet_parse("tcp 192.0.2.7 -> 10.0.0.1 x11", &pkt, &e), 0);
	assert_int_equal(pc_packet_resolve(c.reg, &pkt, &e), -1);
	assert_int_equal(e.col, 27);
	assert_string_equal(e.msg,
			"'x11' is 6000-6063/tcp: a packet goes to one port; give it as a "
			"number");
	assert_int_equal(pc_packet_parse("tcp 192.0.2.7 -> kdc", &pkt, &e), 0);
	assert_int_equal(pc_packet_resolve(c.reg, &pkt, &e), -1);
	assert_non_null(strstr(e.msg, "names no one port"));
	done(&c);
}

/* `in IFACE` and `out IFACE` feed the evaluator: a rule on an interface decides on it. */
static void test_packet_interface(void **state)
{
	struct checked c;
	struct pc_packet pkt;
	struct pc_packet_error e;
	struct pc_decision dec;

	(void)state;
	check_text(&c, H "defaults:\n  output: drop\nrules:\n"
			 "  - allow: krb5_prop\n    direction: output\n    interface: eth1\n"
			 "  - allow: kerberos\n    interface: eth0\n    to: 192.0.2.10\n");
	assert_int_equal(c.rc, 0);
	assert_int_equal(pc_packet_parse("tcp -> 192.0.2.11 754 out eth1", &pkt, &e), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_true(dec.by_rule);
	assert_int_equal(dec.rule, 0);
	assert_int_equal(pc_packet_parse("tcp -> 192.0.2.11 754 out eth0", &pkt, &e), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_false(dec.by_rule);
	assert_int_equal(dec.skipped_interface, 0);
	assert_int_equal(dec.verdict, PC_VERDICT_DROP);
	assert_int_equal(pc_packet_parse("tcp -> 192.0.2.11 754", &pkt, &e), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_false(dec.by_rule);
	assert_int_equal(dec.skipped_interface, 1);
	/* both an interface and a destination: each must be given to decide */
	assert_int_equal(pc_packet_parse("udp 198.51.100.7 -> 192.0.2.10 88 in eth0", &pkt, &e), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_true(dec.by_rule);
	assert_int_equal(dec.rule, 1);
	assert_int_equal(pc_packet_parse("udp 198.51.100.7 -> 88 in eth0", &pkt, &e), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_false(dec.by_rule);
	assert_int_equal(dec.skipped_destination, 1);
	assert_int_equal(pc_packet_parse("udp 198.51.100.7 -> 192.0.2.10 88 in eth1", &pkt, &e), 0);
	pc_policy_evaluate(&c.p, &pkt, &dec);
	assert_false(dec.by_rule);
	assert_int_equal(dec.skipped_destination + dec.skipped_interface, 0);
	done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_every_diagnostic),
			cmocka_unit_test(test_network_depth),
			cmocka_unit_test(test_open_per_family),
			cmocka_unit_test(test_rule_no_match),
			cmocka_unit_test(test_literal_port_findings),
			cmocka_unit_test(test_protocols_the_daemon_uses),
			cmocka_unit_test(test_unused_across_includes),
			cmocka_unit_test(test_resolution),
			cmocka_unit_test(test_defaults),
			cmocka_unit_test(test_neighbour_discovery),
			cmocka_unit_test(test_replies_dropped),
			cmocka_unit_test(test_evaluate_interface),
			cmocka_unit_test(test_evaluate_interface_sets),
			cmocka_unit_test(test_ifaces_cover),
			cmocka_unit_test(test_interface_forms),
			cmocka_unit_test(test_shadowing_interfaces),
			cmocka_unit_test(test_input_destinations),
			cmocka_unit_test(test_packet_parse),
			cmocka_unit_test(test_packet_service),
			cmocka_unit_test(test_packet_interface),
			cmocka_unit_test(test_session_parse),
			cmocka_unit_test(test_many_errors_in_one_run),
			cmocka_unit_test(test_layers_that_disagree),
			cmocka_unit_test(test_definition_narrows),
			cmocka_unit_test(test_definition_alias),
			cmocka_unit_test(test_definition_ports),
			cmocka_unit_test(test_service_groups),
			cmocka_unit_test(test_group_limits),
			cmocka_unit_test(test_acknowledge),
			cmocka_unit_test(test_includes),
			cmocka_unit_test(test_include_graphs),
			cmocka_unit_test(test_include_work),
			cmocka_unit_test(test_shadowing_at_scale),
			cmocka_unit_test(test_shadowing_by_address_at_scale),
			cmocka_unit_test(test_shadowing_wide_ranges),
			cmocka_unit_test(test_shadowing_same_geometry),
			cmocka_unit_test(test_rule_sets_shared),
			cmocka_unit_test(test_shadowing_wide_sets),
			cmocka_unit_test(test_network_nearly_sorted),
			cmocka_unit_test(test_texts_released),
			cmocka_unit_test(test_hints_where_shown),
			cmocka_unit_test(test_load_status),
			cmocka_unit_test(test_ports_read_no_name_table),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
