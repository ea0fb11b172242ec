/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kdc-conf layer: what a KDC's configuration makes the Kerberos names resolve to. */
#include "testutil.h"

#include "portcullis/registry.h"

static struct pc_registry *load(const char *text, enum pc_kdc_flavor flavor, const char *realm,
		struct pc_diags *d, int want)
{
	struct pc_kdc_source src = {"kdc.conf", "kdc.conf", realm, flavor};
	struct pc_registry *reg = pc_registry_create();

	pc_diags_init(d);
	assert_int_equal(pc_registry_load_kdc_mem(reg, &src, text, strlen(text), d), want);
	return reg;
}

/* "88/tcp 88/udp 750/udp" of a resolution, and its status. */
static const char *ports_of(struct pc_registry *reg, const char *name, char *buf, size_t n)
{
	struct pc_resolution res;
	size_t len = 0;

	pc_resolution_init(&res);
	pc_registry_resolve(reg, name, &res);
	buf[0] = '\0';
	for (size_t i = 0; i < res.nports; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%u/%s", i ? " " : "",
				res.ports[i].lo, pc_proto_name(res.ports[i].proto));
	if (res.status != PC_RESOLVE_OK)
		snprintf(buf + len, n - len, " (status %d)", (int)res.status);
	pc_resolution_finish(&res);
	return buf;
}

static void test_mit_lists_and_defaults(void **state)
{
	struct pc_diags d;
	char buf[256];

	(void)state;
	struct pc_registry *reg = load("[kdcdefaults]\n"
				       "  kdc_ports = 88, 750 88\n"
				       "  kdc_tcp_listen = 192.0.2.10, [2001:db8::10]:8888\n",
			PC_KDC_MIT, NULL, &d, PC_LOAD_OK);
	/* 750 is reported; the repeated 88 counts once; an address alone takes the default port. */
	assert_diag_at(&d, "kdc-conf-kerberos4", 2, 0);
	assert_string_equal(ports_of(reg, "kerberos", buf, sizeof(buf)),
			"88/tcp 8888/tcp 88/udp 750/udp");
	/* The aliases of the practice layer name the same rows. */
	assert_string_equal(
			ports_of(reg, "krb5", buf, sizeof(buf)), "88/tcp 8888/tcp 88/udp 750/udp");
	/* Nothing set: MIT's defaults; the layers below add no protocol (749/udp). */
	assert_string_equal(ports_of(reg, "kerberos-adm", buf, sizeof(buf)), "749/tcp");
	assert_string_equal(ports_of(reg, "kpasswd", buf, sizeof(buf)), "464/tcp 464/udp");
	/* No iprop_enable: the layer says nothing of iprop; the practice layer answers. */
	struct pc_records rows;
	pc_records_init(&rows);
	pc_registry_find_name(reg, "iprop", &rows);
	for (size_t i = 0; i < rows.n; i++)
		assert_int_not_equal(rows.v[i].layer, PC_LAYER_KDC);
	pc_records_finish(&rows);
	pc_records_init(&rows);
	pc_registry_find_name(reg, "kerberos", &rows);
	size_t kdc = 0;
	for (size_t i = 0; i < rows.n; i++) {
		if (rows.v[i].layer != PC_LAYER_KDC)
			continue;
		kdc++;
		assert_string_equal(rows.v[i].file, "kdc.conf");
		if (rows.v[i].port_lo == 8888)
			assert_string_equal(rows.v[i].notes, "2001:db8::10");
		if (rows.v[i].proto == PC_PROTO_TCP && rows.v[i].port_lo == 88)
			assert_string_equal(rows.v[i].notes, "192.0.2.10");
	}
	assert_int_equal(kdc, 4);
	pc_records_finish(&rows);
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
}

static void test_realms(void **state)
{
	const char *conf = "[kdcdefaults]\n"
			   "  kdc_ports = 88\n"
			   "[realms]\n"
			   "  A.ORG = {\n"
			   "    kadmind_port = 7749\n"
			   "    kpasswd_port = \"\"\n"
			   "    iprop_enable = true\n"
			   "    iprop_port = 2121\n"
			   "  }\n"
			   "  B.ORG = {\n"
			   "    kdc_ports = 9888\n"
			   "  }\n";
	struct pc_diags d;
	char buf[256];

	(void)state;
	/* Every realm: the union, with a note naming them. */
	struct pc_registry *reg = load(conf, PC_KDC_MIT, NULL, &d, PC_LOAD_OK);
	assert_non_null(find_diag(&d, "kdc-conf-realms"));
	assert_string_equal(ports_of(reg, "kerberos", buf, sizeof(buf)), "88/tcp 88/udp 9888/udp");
	assert_string_equal(ports_of(reg, "kerberos-adm", buf, sizeof(buf)), "749/tcp 7749/tcp");
	/* B.ORG listens on 464: A.ORG turning it off takes nothing away. */
	assert_string_equal(ports_of(reg, "kpasswd", buf, sizeof(buf)), "464/tcp 464/udp");
	assert_string_equal(ports_of(reg, "iprop", buf, sizeof(buf)), "2121/tcp");
	pc_diags_finish(&d);
	pc_registry_destroy(reg);

	/* One realm named: its ports only; kpasswd turned off is said at the rule. */
	reg = load(conf, PC_KDC_MIT, "A.ORG", &d, PC_LOAD_OK);
	assert_int_equal(d.n, 0);
	assert_string_equal(ports_of(reg, "kerberos", buf, sizeof(buf)), "88/tcp 88/udp");
	struct pc_resolution res;
	pc_resolution_init(&res);
	pc_registry_resolve(reg, "kpasswd", &res);
	assert_int_equal(count_diag(&res.findings, "kdc-conf-disabled"), 2);
	assert_diag_at(&res.findings, "kdc-conf-disabled", 6, 0);
	pc_resolution_finish(&res);
	pc_diags_finish(&d);
	pc_registry_destroy(reg);

	/* More realms than the limit: an error, never a part of them taken silently. */
	struct pc_buf b;
	pc_buf_init(&b);
	pc_buf_adds(&b, "[realms]\n");
	for (int i = 0; i < 257; i++)
		pc_buf_printf(&b, "  R%d.ORG = {\n    kdc_ports = %d\n  }\n", i, 1000 + i);
	reg = load(b.data, PC_KDC_MIT, NULL, &d, PC_LOAD_INVALID);
	assert_non_null(find_diag(&d, "profile-limit"));
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
	pc_buf_finish(&b);

	/*
	 * The most realms, 32 ports each, half of them shared with the realm
	 * before: each port once in the union (the rows are found through a set,
	 * not compared with every earlier one).  A realm that turns kpasswd off
	 * takes nothing away from the others.
	 */
	pc_buf_init(&b);
	pc_buf_adds(&b, "[realms]\n");
	for (int i = 0; i < 256; i++) {
		pc_buf_printf(&b, "  R%d.ORG = {\n    kdc_ports = ", i);
		for (int k = 0; k < 32; k++)
			pc_buf_printf(&b, "%s%d", k ? "," : "", 1000 + 16 * i + k);
		pc_buf_printf(&b, "\n    kpasswd_port = %s\n  }\n", i % 2 ? "\"\"" : "464");
	}
	reg = load(b.data, PC_KDC_MIT, NULL, &d, PC_LOAD_OK);
	pc_resolution_init(&res);
	pc_registry_resolve(reg, "kerberos", &res);
	/* 16 x 256 + 16 ports on udp; 88 on tcp (nothing set there). */
	assert_int_equal(res.nports, 16 * 256 + 16 + 1);
	for (size_t i = 1; i < res.nports; i++)
		assert_true(res.ports[i].proto != res.ports[i - 1].proto ||
				res.ports[i].lo > res.ports[i - 1].lo);
	pc_resolution_finish(&res);
	assert_string_equal(ports_of(reg, "kpasswd", buf, sizeof(buf)), "464/tcp 464/udp");
	pc_resolution_init(&res);
	pc_registry_resolve(reg, "kpasswd", &res);
	assert_int_equal(count_diag(&res.findings, "kdc-conf-disabled"), 0);
	pc_resolution_finish(&res);
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
	pc_buf_finish(&b);

	/* A realm the file does not have. */
	reg = load(conf, PC_KDC_MIT, "C.ORG", &d, PC_LOAD_INVALID);
	assert_non_null(find_diag(&d, "kdc-conf-realm"));
	assert_non_null(strstr(find_diag(&d, "kdc-conf-realm")->hint, "A.ORG, B.ORG"));
	assert_false(pc_registry_has_layer(reg, PC_LAYER_KDC));
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
}

static void test_bad_values(void **state)
{
	static const char *const bad[] = {"0", "65536", "088", "+88", "kdc.example.org:88",
			"192.0.2.10:", "[2001:db8::10", "[2001:db8::10]88", "192.0.2.300:88",
			"[192.0.2.10]:x"};
	struct pc_diags d;

	(void)state;
	for (size_t i = 0; i < PC_ARRAY_SIZE(bad); i++) {
		char *text = xasprintf("[kdcdefaults]\n  kdc_listen = 88, %s\n", bad[i]);
		struct pc_registry *reg = load(text, PC_KDC_MIT, NULL, &d, PC_LOAD_INVALID);
		assert_diag_at(&d, "kdc-conf-value", 2, 16);
		assert_non_null(d.v[0].hint);
		pc_diags_finish(&d);
		pc_registry_destroy(reg);
		free(text);
	}
}

static void test_heimdal(void **state)
{
	struct pc_diags d;
	char buf[256];

	(void)state;
	struct pc_registry *reg = load("[kdc]\n  ports = kerberos, 8888 +\n"
				       "  addresses = 192.0.2.10 2001:db8::10\n",
			PC_KDC_HEIMDAL, "X.ORG", &d, PC_LOAD_OK);
	assert_non_null(find_diag(&d, "kdc-conf-realms"));
	assert_string_equal(ports_of(reg, "kerberos", buf, sizeof(buf)),
			"88/tcp 8888/tcp 88/udp 8888/udp");
	/* kadmind and ipropd-master do not read kdc.conf: the practice layer answers. */
	assert_string_equal(ports_of(reg, "iprop", buf, sizeof(buf)), "2121/tcp");
	pc_diags_finish(&d);
	pc_registry_destroy(reg);

	reg = load("[kdc]\n  addresses = kdc.example.org\n", PC_KDC_HEIMDAL, NULL, &d,
			PC_LOAD_INVALID);
	assert_diag_at(&d, "kdc-conf-value", 2, 15);
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_mit_lists_and_defaults),
			cmocka_unit_test(test_realms),
			cmocka_unit_test(test_bad_values),
			cmocka_unit_test(test_heimdal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
