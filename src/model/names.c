/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The facts every printer of the model and the netlink transaction write in
 * their own syntax, defined once: the hooks of the base chains and the ICMP
 * types the defaults accept.
 */
#include "portcullis/model.h"

static const char *const hook_names[PC_NFT_HOOK_COUNT] = {
		[PC_NFT_HOOK_INPUT] = "input",
		[PC_NFT_HOOK_FORWARD] = "forward",
		[PC_NFT_HOOK_OUTPUT] = "output",
};

const char *pc_nft_hook_name(enum pc_nft_hook hook)
{
	return hook_names[hook];
}

enum pc_nft_hook pc_nft_hook_of(enum pc_direction dir)
{
	switch (dir) {
	case PC_DIR_INPUT:
		break;
	case PC_DIR_FORWARD:
		return PC_NFT_HOOK_FORWARD;
	case PC_DIR_OUTPUT:
		return PC_NFT_HOOK_OUTPUT;
	}
	return PC_NFT_HOOK_INPUT;
}

/*
 * ICMP errors; ICMPv6 errors and neighbour discovery (RFC 4890), the last
 * ND_TYPES of them neighbour discovery: what PC_NFT_ICMP_ND matches.
 */
#define ND_TYPES 4
static const struct pc_nft_icmp_type essential4[] = {
		{3, "destination-unreachable", "unreach"},
		{11, "time-exceeded", "timex"},
		{12, "parameter-problem", "paramprob"},
};
static const struct pc_nft_icmp_type essential6[] = {
		{1, "destination-unreachable", "unreach"},
		{2, "packet-too-big", "toobig"},
		{3, "time-exceeded", "timex"},
		{4, "parameter-problem", "paramprob"},
		{133, "nd-router-solicit", "routersol"},
		{134, "nd-router-advert", "routeradv"},
		{135, "nd-neighbor-solicit", "neighbrsol"},
		{136, "nd-neighbor-advert", "neighbradv"},
};
static const struct pc_nft_icmp_type echo4 = {8, "echo-request", "echoreq"};
static const struct pc_nft_icmp_type echo6 = {128, "echo-request", "echoreq"};

const struct pc_nft_icmp_type *pc_nft_icmp_essential(int family, size_t *n)
{
	if (family == 4) {
		*n = sizeof(essential4) / sizeof(essential4[0]);
		return essential4;
	}
	*n = sizeof(essential6) / sizeof(essential6[0]);
	return essential6;
}

const struct pc_nft_icmp_type *pc_nft_icmp_echo(int family)
{
	return family == 4 ? &echo4 : &echo6;
}

const struct pc_nft_icmp_type *pc_nft_icmp_types(enum pc_nft_rule_kind kind, int family, size_t *n)
{
	size_t all;
	const struct pc_nft_icmp_type *v = pc_nft_icmp_essential(family, n);

	if (kind != PC_NFT_ICMP_ND)
		return v;
	v = pc_nft_icmp_essential(6, &all);
	*n = family == 6 ? ND_TYPES : 0;
	return v + all - ND_TYPES;
}
