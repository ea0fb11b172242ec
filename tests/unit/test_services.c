/* SPDX-License-Identifier: GPL-2.0-or-later */
/* services(5) files and the practice layer that shares their syntax. */
#include "testutil.h"

#include "portcullis/registry.h"
#include "registry/layer.h"

static struct pc_layer *parse_mode(
		const char *text, enum pc_services_mode mode, struct pc_diags *d, int expect)
{
	struct pc_layer *l = NULL;

	pc_diags_init(d);
	assert_int_equal(pc_services_parse("svc", text, strlen(text), mode, &l, d), expect);
	return l;
}

static struct pc_layer *parse_ok(const char *text, struct pc_diags *d)
{
	return parse_mode(text, PC_SERVICES_SYSTEM, d, 0);
}

static void test_lines_aliases_comments(void **state)
{
	struct pc_diags d;
	struct pc_layer *l = parse_ok(
			"# comment line\n"
			"\n"
			"kerberos\t88/tcp\t\tkerberos5 krb5 kerberos-sec\t# Kerberos v5\r\n"
			"krb-prop  754/tcp  krb_prop krb5_prop hprop # propagation\n"
			"kpasswd 464/udp",
			&d);
	struct pc_record r;

	(void)state;
	assert_int_equal(d.n, 0);
	assert_int_equal(l->nentries, 3);
	pc_layer_record(l, &l->entries[0], &r);
	assert_string_equal(r.name, "kerberos");
	assert_int_equal(r.line, 3);
	assert_int_equal(r.port_lo, 88);
	assert_int_equal(r.proto, PC_PROTO_TCP);
	assert_int_equal(r.naliases, 3);
	assert_string_equal(r.aliases[0], "kerberos5");
	assert_string_equal(r.aliases[2], "kerberos-sec");
	assert_string_equal(r.description, "Kerberos v5");
	pc_layer_record(l, &l->entries[1], &r);
	assert_int_equal(r.line, 4);
	assert_string_equal(r.aliases[1], "krb5_prop");
	pc_layer_record(l, &l->entries[2], &r);
	assert_int_equal(r.line, 5); /* no final newline */
	assert_int_equal(r.proto, PC_PROTO_UDP);
	assert_string_equal(r.description, "");

	const struct pc_nameref *ref = pc_layer_find(l, "KRB5_PROP");
	assert_non_null(ref);
	assert_int_equal(ref->entry, 1);
	assert_non_null(pc_layer_find(l, "krb5"));
	assert_null(pc_layer_find(l, "krb4"));
	pc_layer_destroy(l);
	pc_diags_finish(&d);
}

static void test_unusable_lines_are_skipped_with_warnings(void **state)
{
	struct pc_diags d;
	struct pc_layer *l = parse_ok("kerberos 88\n"
				      "foo 70000/tcp\n"
				      "foo 88/tcpx\n"
				      "rtmp 1/ddp\n"
				      "bar 022/tcp\n"
				      "baz 10-20/tcp\n"
				      "x;y 5/tcp\n"
				      "ok 7/tcp\n",
			&d);

	(void)state;
	assert_int_equal(l->nentries, 1);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 6); /* ddp is not an IP protocol: skipped silently */
	assert_int_equal(d.v[0].line, 1);
	assert_int_equal(d.v[1].line, 2);
	assert_int_equal(d.v[1].col, 5);
	assert_int_equal(d.v[2].line, 3);
	assert_int_equal(d.v[2].col, 8);
	assert_int_equal(d.v[3].line, 5);
	assert_int_equal(d.v[4].line, 6);
	assert_int_equal(d.v[5].line, 7);
	assert_int_equal(d.v[5].col, 2);
	assert_string_equal(d.v[0].hint, "the line is ignored");
	pc_layer_destroy(l);
	pc_diags_finish(&d);
}

static void test_control_bytes_and_encoding(void **state)
{
	struct pc_diags d;
	static const char text[] =
			"a 1/tcp\nb\0x 2/tcp\nc 3/tcp # caf\xff\nd 4/tcp # caf\xc3\xa9\n";
	struct pc_layer *l = NULL;

	(void)state;
	pc_diags_init(&d);
	assert_int_equal(pc_services_parse(
					 "svc", text, sizeof(text) - 1, PC_SERVICES_SYSTEM, &l, &d),
			0);
	assert_int_equal(l->nentries, 2);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 2);
	assert_string_equal(d.v[1].code, "services-encoding");
	assert_int_equal(d.v[1].line, 3);
	pc_layer_destroy(l);
	pc_diags_finish(&d);
}

static void test_many_duplicate_lines(void **state)
{
	struct pc_buf b;
	struct pc_diags d;
	struct pc_layer *l = NULL;

	(void)state;
	pc_buf_init(&b);
	for (int i = 0; i < 100000; i++)
		pc_buf_adds(&b, "name 80/tcp\n");
	pc_diags_init(&d);
	assert_int_equal(pc_services_parse("svc", b.data, b.len, PC_SERVICES_SYSTEM, &l, &d), 0);
	assert_int_equal(l->nnames, 1);
	assert_int_equal(l->nports, 1);
	assert_int_equal(count_diag(&d, "duplicate-row"), 6); /* five, then a summary */
	assert_non_null(strstr(d.v[5].msg, "99994 more"));
	pc_layer_destroy(l);
	pc_diags_finish(&d);
	pc_buf_finish(&b);
}

static void test_too_many_aliases(void **state)
{
	struct pc_diags d;
	struct pc_layer *l = parse_ok("x 1/tcp a b c d e f g h i j k l m n o p q\ny 2/tcp\n", &d);

	(void)state;
	assert_int_equal(l->nentries, 1);
	assert_non_null(strstr(d.v[0].msg, "more than 16 aliases"));
	pc_layer_destroy(l);
	pc_diags_finish(&d);
}

/*
 * A service on port 0: in a system file, skipped with a warning at the port
 * as every unusable line is; in the practice layer, an error.
 */
static void test_port_zero(void **state)
{
	struct pc_diags d;
	struct pc_layer *l = parse_ok("zero 0/tcp\nok 7/tcp\n", &d);

	(void)state;
	assert_int_equal(l->nentries, 1);
	assert_int_equal(d.nwarnings, 1);
	assert_diag_at(&d, "port-zero", 1, 6);
	assert_string_equal(d.v[0].msg, "port 0 is reserved and cannot be matched");
	assert_string_equal(d.v[0].hint, "the line is ignored");
	pc_layer_destroy(l);
	pc_diags_finish(&d);

	l = parse_mode("zero 0/tcp # a source\n", PC_SERVICES_PRACTICE, &d, -1);
	assert_null(l);
	assert_diag_at(&d, "port-zero", 1, 6);
	assert_int_equal(d.v[0].sev, PC_SEV_ERROR);
	pc_diags_finish(&d);
}

static void test_practice_mode(void **state)
{
	struct pc_diags d;
	struct pc_layer *l;
	struct pc_record r;

	(void)state;
	l = parse_mode("krb5_prop 754/tcp krb_prop # MIT kprop.h KPROP_PORT 754\n"
		       "kdc contested kerberos,kerberos4 # ambiguous\n",
			PC_SERVICES_PRACTICE, &d, 0);
	assert_int_equal(l->kind, PC_LAYER_PRACTICE);
	pc_layer_record(l, &l->entries[0], &r);
	assert_string_equal(r.notes, "MIT kprop.h KPROP_PORT 754");
	pc_layer_record(l, &l->entries[1], &r);
	assert_int_equal(r.state, PC_STATE_CONTESTED);
	assert_string_equal(r.instead, "kerberos,kerberos4");
	assert_false(r.flags & PC_ENTRY_F_PORT);
	pc_layer_destroy(l);
	pc_diags_finish(&d);

	/* `only` after the port marks the row; the aliases follow it.  Elsewhere it is an alias. */
	l = parse_mode("kerberos-adm 749/tcp only kadmin # MIT kadmind\n", PC_SERVICES_PRACTICE, &d,
			0);
	pc_layer_record(l, &l->entries[0], &r);
	assert_true(r.flags & PC_ENTRY_F_ONLY);
	assert_int_equal(r.naliases, 1);
	assert_string_equal(r.aliases[0], "kadmin");
	pc_layer_destroy(l);
	pc_diags_finish(&d);
	l = parse_mode("kerberos-adm 749/tcp only\n", PC_SERVICES_SYSTEM, &d, 0);
	pc_layer_record(l, &l->entries[0], &r);
	assert_false(r.flags & PC_ENTRY_F_ONLY);
	assert_int_equal(r.naliases, 1);
	assert_string_equal(r.aliases[0], "only");
	pc_layer_destroy(l);
	pc_diags_finish(&d);

	/* A practice entry without its source note is an error, not a warning. */
	l = parse_mode("iprop 2121/tcp\n", PC_SERVICES_PRACTICE, &d, -1);
	assert_null(l);
	assert_diag_at(&d, "practice-source", 1, 15);
	pc_diags_finish(&d);
	l = parse_mode("kdc contested # why\n", PC_SERVICES_PRACTICE, &d, -1);
	assert_int_equal(d.v[0].sev, PC_SEV_ERROR);
	pc_diags_finish(&d);
}

/* A range of ports: a practice row may give one (the dynamic RPC ports), a services file may not.
 */
static void test_practice_range(void **state)
{
	struct pc_diags d;
	struct pc_layer *l;
	struct pc_record r;

	(void)state;
	l = parse_mode("msrpc-dynamic 49152-65535/tcp only rpc-dynamic # a source\n",
			PC_SERVICES_PRACTICE, &d, 0);
	assert_int_equal(d.n, 0);
	pc_layer_record(l, &l->entries[0], &r);
	assert_int_equal(r.port_lo, 49152);
	assert_int_equal(r.port_hi, 65535);
	assert_true(r.flags & PC_ENTRY_F_ONLY);
	assert_string_equal(r.aliases[0], "rpc-dynamic");
	pc_layer_destroy(l);
	pc_diags_finish(&d);

	l = parse_ok("msrpc-dynamic 49152-65535/tcp\nok 7/tcp\n", &d);
	assert_int_equal(l->nentries, 1);
	assert_diag_at(&d, "services-syntax", 1, 15);
	assert_string_equal(
			d.v[0].msg, "bad port '49152-65535': expected a number from 0 to 65535");
	pc_layer_destroy(l);
	pc_diags_finish(&d);

	/* `claim` after the port (after `only` if both); then the aliases. */
	l = parse_mode("microsoft-ds 445/tcp only claim smb cifs # a source\n"
		       "winrm 5985/tcp claim # a source\n",
			PC_SERVICES_PRACTICE, &d, 0);
	pc_layer_record(l, &l->entries[0], &r);
	assert_true(r.flags & PC_ENTRY_F_ONLY);
	assert_true(r.flags & PC_ENTRY_F_CLAIM);
	assert_int_equal(r.naliases, 2);
	assert_string_equal(r.aliases[1], "cifs");
	pc_layer_record(l, &l->entries[1], &r);
	assert_false(r.flags & PC_ENTRY_F_ONLY);
	assert_true(r.flags & PC_ENTRY_F_CLAIM);
	assert_int_equal(r.naliases, 0);
	pc_layer_destroy(l);
	pc_diags_finish(&d);

	/* Backwards, past 65535, or from 0: errors in the practice layer. */
	static const char *const bad[] = {
			"x 200-100/tcp # s\n", "x 65535-65536/tcp # s\n", "x 0-10/tcp # s\n"};
	for (size_t i = 0; i < PC_ARRAY_SIZE(bad); i++) {
		l = parse_mode(bad[i], PC_SERVICES_PRACTICE, &d, -1);
		assert_null(l);
		assert_int_equal(d.nerrors, 1);
		assert_int_equal(d.v[0].col, 3);
		pc_diags_finish(&d);
	}
}

static void test_shipped_practice_file(void **state)
{
	struct pc_buf text;
	struct pc_diags d;
	struct pc_layer *l;
	struct pc_record r;

	(void)state;
	pc_diags_init(&d);
	assert_int_equal(pc_read_text(src_path("data/practice.services"), 1u << 20, &text), 0);
	assert_int_equal(
			pc_services_parse_text("practice", &text, PC_SERVICES_PRACTICE, &l, &d), 0);
	assert_int_equal(d.n, 0);
	pc_buf_finish(&text);

	/* The Kerberos family the issue names, each with a source note. */
	static const struct {
		const char *name;
		uint16_t port;
		enum pc_proto proto;
	} want[] = {
			{"krb5_prop", 754, PC_PROTO_TCP},
			{"krb_prop", 754, PC_PROTO_TCP},
			{"krb-prop", 754, PC_PROTO_TCP},
			{"hprop", 754, PC_PROTO_TCP},
			{"kerberos4", 750, PC_PROTO_UDP},
			{"kerberos-iv", 750, PC_PROTO_UDP},
			{"kerberos-master", 751, PC_PROTO_UDP},
			{"iprop", 2121, PC_PROTO_TCP},
			{"krb524", 4444, PC_PROTO_UDP},
			/* Active Directory and Samba domain controllers */
			{"ldap", 389, PC_PROTO_UDP},
			{"ldaps", 636, PC_PROTO_TCP},
			{"msft-gc", 3268, PC_PROTO_TCP},
			{"gc", 3268, PC_PROTO_TCP},
			{"msft-gc-ssl", 3269, PC_PROTO_TCP},
			{"epmap", 135, PC_PROTO_TCP},
			{"msrpc", 135, PC_PROTO_TCP},
			{"msrpc-dynamic", 49152, PC_PROTO_TCP},
			{"rpc-dynamic", 49152, PC_PROTO_TCP},
			{"microsoft-ds", 445, PC_PROTO_TCP},
			{"smb", 445, PC_PROTO_TCP},
			{"cifs", 445, PC_PROTO_TCP},
			{"netbios-ns", 137, PC_PROTO_UDP},
			{"netbios-dgm", 138, PC_PROTO_UDP},
			{"netbios-ssn", 139, PC_PROTO_TCP},
			{"dns", 53, PC_PROTO_UDP},
			{"ntp", 123, PC_PROTO_UDP},
			{"adws", 9389, PC_PROTO_TCP},
			{"winrm", 5985, PC_PROTO_TCP},
			{"winrm-https", 5986, PC_PROTO_TCP},
			{"winrms", 5986, PC_PROTO_TCP},
	};
	for (size_t i = 0; i < PC_ARRAY_SIZE(want); i++) {
		const struct pc_nameref *ref = pc_layer_find(l, want[i].name);
		if (!ref)
			fail_msg("practice lacks %s", want[i].name);
		bool found = false;
		for (; ref; ref = ref->next ? &l->names[ref->next - 1] : NULL) {
			pc_layer_record(l, &l->entries[ref->entry], &r);
			assert_true(strlen(r.notes) > 10);
			found |= r.port_lo == want[i].port && r.proto == want[i].proto;
		}
		if (!found)
			fail_msg("%s is not on %u", want[i].name, want[i].port);
	}
	/* 750 and 751 over tcp too. */
	unsigned tcp750 = 0;
	for (uint32_t i = 0; i < l->nentries; i++)
		tcp750 += l->entries[i].proto == PC_PROTO_TCP &&
			  (l->entries[i].port_lo == 750 || l->entries[i].port_lo == 751);
	assert_int_equal(tcp750, 2);

	const struct pc_nameref *kdc = pc_layer_find(l, "kdc");
	assert_non_null(kdc);
	assert_int_equal(l->entries[kdc->entry].state, PC_STATE_CONTESTED);
	pc_layer_destroy(l);
	pc_diags_finish(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_lines_aliases_comments),
			cmocka_unit_test(test_unusable_lines_are_skipped_with_warnings),
			cmocka_unit_test(test_control_bytes_and_encoding),
			cmocka_unit_test(test_many_duplicate_lines),
			cmocka_unit_test(test_too_many_aliases),
			cmocka_unit_test(test_port_zero),
			cmocka_unit_test(test_practice_mode),
			cmocka_unit_test(test_practice_range),
			cmocka_unit_test(test_shipped_practice_file),
	};

	return cmocka_run_group_tests_name("services", tests, NULL, NULL);
}
