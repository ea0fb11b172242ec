/* SPDX-License-Identifier: GPL-2.0-or-later */
/* $SSH_CONNECTION, read strictly: see portcullis/session.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "portcullis/session.h"

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* One address word: ADDR or IPV6%ZONE; *family 4 or 6, zone copied when present. */
static int parse_addr(const char *w, uint8_t addr[16], uint8_t *family, char zone[16], char *err,
		size_t errlen)
{
	char buf[64];
	const char *pct = strchr(w, '%');
	size_t n = pct ? (size_t)(pct - w) : strlen(w);

	zone[0] = '\0';
	if (n >= sizeof(buf)) {
		snprintf(err, errlen, "'%.64s...' is too long to be an address", w);
		return -1;
	}
	memcpy(buf, w, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1 && !pct) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, addr) != 1) {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", w);
		return -1;
	}
	if (pct) {
		size_t zl = strlen(pct + 1);
		if (zl == 0 || zl > 15 ||
				strspn(pct + 1, "abcdefghijklmnopqrstuvwxyz"
						"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") != zl) {
			snprintf(err, errlen, "'%s' has a zone that is not an interface name", w);
			return -1;
		}
		memcpy(zone, pct + 1, zl + 1);
	}
	if (!memcmp(addr, v4mapped, sizeof(v4mapped))) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		zone[0] = '\0';
		*family = 4;
		return 0;
	}
	*family = 6;
	return 0;
}

static int parse_port(const char *w, uint16_t *port, char *err, size_t errlen)
{
	size_t n = strlen(w);
	unsigned v = 0;

	if (n == 0 || n > 5 || strspn(w, "0123456789") != n || w[0] == '0') {
		snprintf(err, errlen, "'%s' is not a port (1-65535)", w);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(w[i] - '0');
	if (v > 65535) {
		snprintf(err, errlen, "'%s' is not a port (1-65535)", w);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

int pc_session_parse(const char *s, struct pc_session *out, char *err, size_t errlen)
{
	char buf[256], *word[4];
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "it is too long to be one");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *p = buf;; p++) {
		char *sp = strchr(p, ' ');
		if (n == 4) {
			snprintf(err, errlen, "expected four words: CLIENT CPORT SERVER SPORT");
			return -1;
		}
		word[n++] = p;
		if (!sp)
			break;
		*sp = '\0';
		p = sp;
	}
	if (n != 4) {
		snprintf(err, errlen, "expected four words: CLIENT CPORT SERVER SPORT");
		return -1;
	}
	uint8_t sfam;
	char szone[16];
	if (parse_addr(word[0], out->client, &out->family, out->zone, err, errlen) < 0 ||
			parse_port(word[1], &out->cport, err, errlen) < 0 ||
			parse_addr(word[2], out->server, &sfam, szone, err, errlen) < 0 ||
			parse_port(word[3], &out->sport, err, errlen) < 0)
		return -1;
	if (sfam != out->family) {
		snprintf(err, errlen, "the client '%s' and the server '%s' are not of one family",
				word[0], word[2]);
		return -1;
	}
	if (!out->zone[0] && szone[0])
		memcpy(out->zone, szone, sizeof(szone));
	return 0;
}
