/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The printers of the nft model (portcullis/model.h): nft text and the
 * libnftables JSON schema, and the pieces of nft text the other printers and
 * the CLI share.  They print what the model holds and decide nothing.
 */
#ifndef PORTCULLIS_NFT_H
#define PORTCULLIS_NFT_H

#include <stdio.h>

#include "portcullis/model.h"

/*
 * Prints the table as an nft script that replaces the previous table of the
 * same name atomically (one transaction: declare, delete, create) and leaves
 * every other table alone.  `header` lines are printed first as comments.
 */
void pc_nft_print(
		const struct pc_nft_table *t, const char *const *header, size_t nheader, FILE *out);

/*
 * Prints the same script in the libnftables JSON schema (`nft -j -f`).  JSON
 * has no comments, so `header` goes into the metainfo object under the key
 * "portcullis", which libnftables ignores.
 */
void pc_nft_print_json(
		const struct pc_nft_table *t, const char *const *header, size_t nheader, FILE *out);

/*
 * One rule as nft text, without indentation or line end.  A policy rule is
 * printed as it stands in its jump chain: the verdict map matched its
 * protocol and port already.
 */
void pc_nft_print_rule(const struct pc_nft_chain *c, const struct pc_nft_rule *r, FILE *out);

/* The same with another comment: that of a shared jump chain. */
void pc_nft_print_rule_as(const struct pc_nft_chain *c, const struct pc_nft_rule *r,
		const char *comment, FILE *out);

/*
 * A policy rule as it stands in its base chain when its map is past its
 * budget (pc_nft_chain.inline_rules): with one of its port ranges, `port`,
 * matched first (`tcp dport 1-30000 ip saddr 10.0.0.1 accept comment ...`).
 */
void pc_nft_print_rule_port(const struct pc_nft_chain *c, const struct pc_nft_rule *r,
		const struct pc_nft_port_range *port, FILE *out);

/* A port or range: "88", or "749-750" in nft and "749:750" in iptables and pf (`sep`). */
void pc_nft_print_ports(FILE *out, const struct pc_nft_port_range *r, char sep);

/* A prefix as nft and pf write it: "192.0.2.1" for a host, else "198.51.100.0/24". */
void pc_nft_print_prefix(FILE *out, const struct pc_prefix *x);

/* A map element's key and verdict as nft text: `749 : accept`, `88-89 : jump r2_tcp`. */
void pc_nft_print_element(const struct pc_nft_table *t, const struct pc_nft_segment *s, FILE *out);

/* A source-address map element as nft text: `198.51.100.0/24 comment "..." : accept`. */
void pc_nft_print_addr_element(const struct pc_nft_addr_elem *e, FILE *out);

#endif
