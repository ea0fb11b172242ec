/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pc-minimal: a C program that does nothing, linked as portcullis is (the C
 * library, dynamically): what any process of the machine costs, against
 * which tests/growth/run-fixedmem.sh holds portcullis's fixed memory.
 */
int main(void)
{
	return 0;
}
