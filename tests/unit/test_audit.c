/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The registry for its keepers: the audit of the layers, and two IANA registries compared. */
#include "testutil.h"

#include "portcullis/audit.h"

/* A services file with one row for each kind of disagreement. */
static const char services[] =
		"# one row for each kind\n"
		"ssh\t\t22/tcp\n" /* 2: IANA lists 22/udp, 22/sctp too (protocol-absent) */
		"kerberos\t88/tcp\t\tkerberos5 krb5 kerberos-sec\n" /* 3: contested alias */
		"tinyname\t250/tcp\n" /* 4: inside IANA's Reserved 249-255 */
		"kerberos4\t750/udp\t\tkerberos-iv\n" /* 5: IANA's name is the alias */
		"kerberos4\t750/tcp\t\tkerberos-iv\n" /* 6: rfile's port; no kerberos-iv/tcp */
		"krb-prop\t754/tcp\t\tkrb_prop krb5_prop hprop\n" /* 7: IANA tell */
		"acmaint_dbd\t774/udp\n" /* 8: historic alias of acmaint-dbd */
		"unused\t\t796/tcp\n" /* 9: Unassigned 788-799 */
		"ssh\t\t2222/tcp\n" /* 10: IANA's ssh is on 22 */
		"iprop\t\t2122/tcp\n" /* 11: practice puts iprop on 2121 */
		"myapp\t\t60000/tcp\n"; /* 12: IANA lists nothing there, nor the name */

struct fixture {
	struct pc_registry *reg;
	struct pc_diags diags;
	struct pc_audit audit;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->reg = pc_registry_create();
	pc_diags_init(&f->diags);
	pc_audit_init(&f->audit);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pc_audit_finish(&f->audit);
	pc_diags_finish(&f->diags);
	pc_registry_destroy(f->reg);
	free(f);
	return 0;
}

/* The entry of `kind` about the system layer's row at `line`; fails when there is none. */
static const struct pc_audit_entry *entry(const struct pc_audit *a, enum pc_audit_kind kind,
		enum pc_layer_kind layer, unsigned line)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].kind == kind && a->v[i].row.layer == layer && a->v[i].row.line == line)
			return &a->v[i];
	fail_msg("no %s entry for line %u", pc_audit_code(kind), line);
	return NULL;
}

static size_t entries_of(const struct pc_audit *a, enum pc_layer_kind layer, unsigned line)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		n += a->v[i].row.layer == layer && a->v[i].row.line == line;
	return n;
}

static void test_audit_kinds(void **state)
{
	struct fixture *f = *state;
	const struct pc_audit_entry *e;

	assert_int_equal(pc_registry_load_services_mem(
					 f->reg, "svc", services, sizeof(services) - 1, &f->diags),
			PC_LOAD_OK);
	pc_registry_audit(f->reg, &f->audit);

	/* 754: the services file's krb-prop and practice's krb5_prop, on IANA's tell. */
	e = entry(&f->audit, PC_AUDIT_PORT_TAKEN, PC_LAYER_SYSTEM, 7);
	assert_string_equal(e->other.name, "tell");
	assert_int_equal(e->other.layer, PC_LAYER_IANA);
	assert_int_equal(e->port_lo, 754);
	assert_int_equal(e->proto, PC_PROTO_TCP);
	e = entry(&f->audit, PC_AUDIT_PORT_TAKEN, PC_LAYER_PRACTICE, 22);
	assert_string_equal(e->row.name, "krb5_prop");
	assert_string_equal(e->other.name, "tell");
	e = entry(&f->audit, PC_AUDIT_UNREGISTERED, PC_LAYER_SYSTEM, 7);
	assert_false(e->has_other);

	e = entry(&f->audit, PC_AUDIT_PROTOCOL_ABSENT, PC_LAYER_SYSTEM, 2);
	assert_int_equal(e->proto, PC_PROTO_UDP);
	assert_int_equal(f->audit.v[e - f->audit.v + 1].proto, PC_PROTO_SCTP);
	assert_int_equal(entries_of(&f->audit, PC_LAYER_SYSTEM, 2), 2);

	e = entry(&f->audit, PC_AUDIT_CONTESTED, PC_LAYER_SYSTEM, 3);
	assert_string_equal(e->other.name, "kerberos-sec");
	/* and 88/udp, which IANA lists and this file leaves out */
	assert_int_equal(entries_of(&f->audit, PC_LAYER_SYSTEM, 3), 2);

	e = entry(&f->audit, PC_AUDIT_RESERVED, PC_LAYER_SYSTEM, 4);
	assert_int_equal(e->other.state, PC_STATE_RESERVED);
	e = entry(&f->audit, PC_AUDIT_ALIAS, PC_LAYER_SYSTEM, 5);
	assert_string_equal(e->other.name, "kerberos-iv");
	e = entry(&f->audit, PC_AUDIT_PORT_TAKEN, PC_LAYER_SYSTEM, 6);
	assert_string_equal(e->other.name, "rfile");
	e = entry(&f->audit, PC_AUDIT_PROTOCOL_EXTRA, PC_LAYER_SYSTEM, 6);
	assert_string_equal(e->other.name, "kerberos-iv");
	e = entry(&f->audit, PC_AUDIT_HISTORIC, PC_LAYER_SYSTEM, 8);
	assert_string_equal(e->other.alias_of, "acmaint-dbd");
	e = entry(&f->audit, PC_AUDIT_UNASSIGNED, PC_LAYER_SYSTEM, 9);
	assert_int_equal(e->other.state, PC_STATE_UNASSIGNED);
	e = entry(&f->audit, PC_AUDIT_OTHER_PORT, PC_LAYER_SYSTEM, 10);
	assert_int_equal(e->other.port_lo, 22);
	e = entry(&f->audit, PC_AUDIT_PRACTICE_PORT, PC_LAYER_SYSTEM, 11);
	assert_int_equal(e->other.port_lo, 2121);
	e = entry(&f->audit, PC_AUDIT_UNASSIGNED, PC_LAYER_SYSTEM, 12);
	assert_false(e->has_other);
	entry(&f->audit, PC_AUDIT_UNREGISTERED, PC_LAYER_SYSTEM, 12);
	/* An `only` row of practice leaves out IANA's other protocols: said as such. */
	e = entry(&f->audit, PC_AUDIT_PROTOCOL_ABSENT, PC_LAYER_PRACTICE, 48);
	assert_int_equal(e->port_lo, 749);
	assert_int_equal(e->proto, PC_PROTO_UDP);

	/* Sorted by kind, then port; the counts add up. */
	size_t total = 0;
	for (int k = 0; k < PC_AUDIT_KIND_COUNT; k++)
		total += f->audit.count[k];
	assert_int_equal(total, f->audit.n);
	for (size_t i = 1; i < f->audit.n; i++) {
		const struct pc_audit_entry *x = &f->audit.v[i - 1], *y = &f->audit.v[i];
		assert_true(x->kind < y->kind || (x->kind == y->kind && x->port_lo <= y->port_lo));
	}
}

/* Without a services file, practice alone against IANA: the rows of data/practice.services. */
static void test_audit_practice_alone(void **state)
{
	struct fixture *f = *state;

	pc_registry_audit(f->reg, &f->audit);
	for (size_t i = 0; i < f->audit.n; i++)
		assert_int_equal(f->audit.v[i].row.layer, PC_LAYER_PRACTICE);
	assert_string_equal(
			entry(&f->audit, PC_AUDIT_PORT_TAKEN, PC_LAYER_PRACTICE, 22)->other.name,
			"tell");
	assert_int_equal(f->audit.count[PC_AUDIT_CONTESTED], 0);
}

#define HEADER                                                                                     \
	"Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,"                \
	"Registration Date,Modification Date,Reference,Service Code,Unauthorized Use "             \
	"Reported,Assignment Notes\n"

static const char old_csv[] = HEADER "kerberos,88,tcp,Kerberos,,,,,,,,\n"
				     "kerberos,88,udp,Kerberos,,,,,,,,\n"
				     "kpasswd,464,tcp,kpasswd,,,,,,,,\n"
				     "kpasswd,464,udp,kpasswd,,,,,,,,\n"
				     "kerberos-adm,749,tcp,kerberos administration,,,,,,,,\n"
				     "kerberos-adm,749,udp,kerberos administration,,,,,,,,\n"
				     "tell,754,tcp,send,,,,,,,,\n"
				     ",800-810,tcp,Unassigned,,,,,,,,\n";
static const char new_csv[] = HEADER "kerberos,88,tcp,Kerberos,,,,,,,,\n"
				     "kerberos,88,udp,Kerberos,,,,,,,,\n"
				     "kerberos,88,sctp,Kerberos,,,,,,,,\n"
				     "kpasswd,465,tcp,kpasswd,,,,,,,,\n"
				     "kpasswd,465,udp,kpasswd,,,,,,,,\n"
				     "kerberos-adm,749,tcp,kerberos administration,,,,,,,,\n"
				     ",754,tcp,Reserved,,,,,,,,\n"
				     "newsvc,800,tcp,new,,,,,,,,\n"
				     ",801-810,tcp,Unassigned,,,,,,,,\n";

static const struct pc_change *change(
		const struct pc_changes *c, enum pc_change_kind kind, const char *name, uint16_t lo)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].kind == kind && !strcmp(c->v[i].name, name) &&
				(kind != PC_CHANGE_STATE || c->v[i].lo == lo))
			return &c->v[i];
	fail_msg("no %s change for '%s' %u", pc_change_code(kind), name, lo);
	return NULL;
}

static void test_compare(void **state)
{
	struct fixture *f = *state;
	struct pc_registry *new = pc_registry_create();
	struct pc_changes c;
	const struct pc_change *ch;

	assert_int_equal(pc_registry_load_iana_mem(f->reg, "old.csv", old_csv, sizeof(old_csv) - 1,
					 &f->diags),
			PC_LOAD_OK);
	assert_int_equal(pc_registry_load_iana_mem(
					 new, "new.csv", new_csv, sizeof(new_csv) - 1, &f->diags),
			PC_LOAD_OK);
	pc_changes_init(&c);
	pc_registry_compare(f->reg, new, &c);

	ch = change(&c, PC_CHANGE_ADDED, "newsvc", 0);
	assert_string_equal(ch->old_ports, "");
	assert_string_equal(ch->new_ports, "800/tcp");
	assert_int_equal(ch->new_row.line, 9);
	ch = change(&c, PC_CHANGE_REMOVED, "tell", 0);
	assert_string_equal(ch->old_ports, "754/tcp");
	assert_int_equal(ch->old_row.line, 8);
	ch = change(&c, PC_CHANGE_MOVED, "kpasswd", 0);
	assert_string_equal(ch->old_ports, "464/tcp, 464/udp");
	assert_string_equal(ch->new_ports, "465/tcp, 465/udp");
	ch = change(&c, PC_CHANGE_PORTS_ADDED, "kerberos", 0);
	assert_string_equal(ch->new_ports, "88/tcp, 88/udp, 88/sctp");
	ch = change(&c, PC_CHANGE_PORTS_REMOVED, "kerberos-adm", 0);
	assert_string_equal(ch->old_ports, "749/tcp, 749/udp");
	assert_string_equal(ch->new_ports, "749/tcp");

	/* States: 754/tcp assigned -> reserved, 800/tcp unassigned -> assigned, 749/udp gone. */
	ch = change(&c, PC_CHANGE_STATE, "", 754);
	assert_int_equal(ch->old_state, PC_STATE_ASSIGNED);
	assert_int_equal(ch->new_state, PC_STATE_RESERVED);
	assert_int_equal(ch->new_row.line, 8);
	ch = change(&c, PC_CHANGE_STATE, "", 800);
	assert_int_equal(ch->hi, 800);
	assert_int_equal(ch->old_state, PC_STATE_UNASSIGNED);
	assert_int_equal(ch->new_state, PC_STATE_ASSIGNED);
	ch = change(&c, PC_CHANGE_STATE, "", 749);
	assert_int_equal(ch->proto, PC_PROTO_UDP);
	assert_int_equal(ch->new_state, PC_STATE_UNLISTED);
	/* 464 and 465 changed state too, on both protocols: four runs in all there. */
	assert_int_equal(c.count[PC_CHANGE_STATE], 1 + 1 + 1 + 4 + 1);
	assert_int_equal(c.count[PC_CHANGE_ADDED], 1);
	assert_int_equal(c.n, 5 + c.count[PC_CHANGE_STATE]);

	/* The same registry twice: nothing. */
	pc_changes_finish(&c);
	pc_registry_compare(new, new, &c);
	assert_int_equal(c.n, 0);
	pc_changes_finish(&c);
	pc_registry_destroy(new);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test_setup_teardown(test_audit_kinds, setup, teardown),
			cmocka_unit_test_setup_teardown(test_audit_practice_alone, setup, teardown),
			cmocka_unit_test_setup_teardown(test_compare, setup, teardown),
	};

	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
