/* test_errors.c - one run reports every error of a policy (up to a limit),
 * without follow-up errors, with "did you mean" for keywords, sets and
 * include paths; JSON strings stay valid whatever the bytes. No root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "lib/json.h"
#include "lib/closest.h"
#include "policy/policy.h"

static struct pw_policy pol;
static struct pw_diag diag;

static int parse(const char *text)
{
	pw_policy_free(&pol);
	pw_diag_free(&diag);
	return pw_policy_parse_text("t.policy", text, strlen(text), &pol, &diag);
}

/* The errors kept, one a line, as check prints them. */
static const char *printed(void)
{
	static char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	if (!f)
		return "(fmemopen failed)";
	pw_diag_print_errors(&diag, f);
	fclose(f);
	return buf;
}

TEST(every_error_of_a_file)
{
	CHECK(parse("policy \"multi\"\n"
		    "allow in tcp port 0\n"		/* 2 */
		    "allow in tcp port 22\n"
		    "default in dorp\n"			/* 4 */
		    "allow in tcp port 25 from 192.0.2.300\n"	/* 5 */
		    "allow in udp port 53\n") != 0);
	CHECK_EQ_STR(printed(),
		     "t.policy:2:19: error: port \"0\" is out of range 1-65535\n"
		     "t.policy:4:12: error: expected drop or allow, got \"dorp\"; did you mean \"drop\"?\n"
		     "t.policy:5:27: error: expected an address, CIDR, @set or \"any\", got \"192.0.2.300\"\n");
	CHECK_EQ_INT(diag.nerr, 3);
	CHECK_EQ_INT(diag.nerr_more, 0);
	CHECK_EQ_INT(pw_diag_count(&diag), 3);
	/* the first is still the one error[] and err_* name */
	CHECK_EQ_STR(diag.error, "t.policy:2:19: error: port \"0\" is out of range 1-65535");
	CHECK_EQ_INT(diag.err_line, 2);
	CHECK_EQ_INT(diag.errs[2].line, 5);
	CHECK_EQ_INT(diag.errs[2].col, 27);
	CHECK_EQ_STR(diag.errs[2].file, "t.policy");
}

TEST(errors_past_the_limit_are_counted)
{
	char text[4096] = "";
	for (int i = 0; i < PW_DIAG_MAX_ERRORS + 5; i++)
		strcat(text, "allow in tcp port 0\n");
	CHECK(parse(text) != 0);
	CHECK_EQ_INT(diag.nerr, PW_DIAG_MAX_ERRORS);
	CHECK_EQ_INT(diag.nerr_more, 5);
	CHECK_EQ_INT(diag.errs[PW_DIAG_MAX_ERRORS - 1].line, PW_DIAG_MAX_ERRORS);
	const char *out = printed(), *last = strrchr(out, '\n');
	while (last > out && last[-1] != '\n')
		last--;
	CHECK_EQ_STR(last, "5 more errors not shown (the first 20 are)\n");
}

/* A set that failed is reported once, not again at every rule naming it. */
TEST(failed_set_is_not_reported_again)
{
	CHECK(parse("set mail = 198.51.100.25, 198.51.100.300\n"
		    "allow in tcp port 25 from @mail\n"
		    "allow in tcp port 465 from @mail\n"
		    "allow out tcp port 587 to @mail\n") != 0);
	CHECK_EQ_STR(printed(),
		     "t.policy:1:27: error: expected an address, CIDR, @set or \"any\", got \"198.51.100.300\"\n");
}

/* An unknown set is reported where it is first named, not at every rule
 * after (an include that could not be read would define many). */
TEST(unknown_set_is_reported_once)
{
	CHECK(parse("include \"/nonexistent/pw-base.policy\"\n"
		    "allow in tcp port 22 from @admins\n"
		    "allow in tcp port 23 from @admins\n"
		    "allow in tcp port 80 from @web\n"
		    "allow out tcp port 443 to @web, @admins\n") != 0);
	CHECK_EQ_STR(printed(),
		     "t.policy:1:9: error: cannot read included file /nonexistent/pw-base.policy: No such file or "
		     "directory\n"
		     "t.policy:2:27: error: unknown set \"@admins\"; define it with \"set admins = ...\" before this "
		     "line\n"
		     "t.policy:4:27: error: unknown set \"@web\"; define it with \"set web = ...\" before this line\n");
}

/* A wrong line inside a statement that goes on: the statement is skipped
 * whole (its other lines are not read as statements) and the next one
 * parsed. */
TEST(wrong_line_skips_its_statement)
{
	CHECK(parse("allow in tcp port 8080 from 192.0.2.1,\n"
		    "  \"unterminated,\n"
		    "  192.0.2.3,\n"
		    "  192.0.2.4\n"
		    "allow in tcp port 0\n"
		    "allow in tcp port 443\n") != 0);
	CHECK_EQ_STR(printed(),
		     "t.policy:2:3: error: unterminated string: close it with \" on the same line\n"
		     "t.policy:5:19: error: port \"0\" is out of range 1-65535\n");
}

/* Invalid UTF-8 on two lines: both reported; a NUL stops (not text). */
TEST(bad_bytes_on_every_line)
{
	CHECK(parse("allow in tcp port 22 comment \"caf\xe9\"\n# \xff here\nallow in tcp port 0\n") != 0);
	CHECK_EQ_INT(diag.nerr, 3);
	CHECK_EQ_INT(diag.errs[0].line, 1);
	CHECK_EQ_INT(diag.errs[1].line, 2);
	CHECK_EQ_INT(diag.errs[2].line, 3);
	pw_policy_free(&pol);
	pw_diag_free(&diag);
	static const char nul[] = "allow in tcp port 0\n\0\nallow in tcp port 0\n";
	CHECK(pw_policy_parse_text("t.policy", nul, sizeof(nul) - 1, &pol, &diag) != 0);
	CHECK_EQ_INT(diag.nerr, 2);
	CHECK_EQ_STR(diag.errs[1].msg, "NUL byte in the file; is it a text file?");
}

TEST(did_you_mean_keywords_and_sets)
{
	static const struct {
		const char *text, *error;
	} cases[] = {
		{ "alow in tcp port 22\n", "got \"alow\"; did you mean \"allow\"?" },
		{ "dney in tcp port 22\n", "got \"dney\"; did you mean \"deny\"?" },
		{ "incldue \"x\"\n", "got \"incldue\"; did you mean \"include\"?" },
		{ "allow ni tcp port 22\n", "got \"ni\"; did you mean \"in\"?" },
		{ "allow in tpc port 22\n", "got \"tpc\"; did you mean \"tcp\"?" },
		{ "allow in tcp prot 22\n", "got \"prot\"; did you mean \"port\"?" },
		{ "allow in tcp port 22 form any\n", "got \"form\"; did you mean \"from\"?" },
		{ "mode monitr\n", "got \"monitr\"; did you mean \"monitor\"?" },
		{ "set mail = 198.51.100.25\nallow in tcp port 25 from @mial\n",
		  "unknown set \"@mial\"; did you mean \"@mail\"?" },
		/* nothing close: no guess */
		{ "firewall in tcp\n", "got \"firewall\"" },
		{ "set mail = 198.51.100.25\nallow in tcp port 25 from @web\n",
		  "unknown set \"@web\"; define it with \"set web = ...\" before this line" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse(cases[i].text);
		size_t n = strlen(cases[i].error), m = strlen(diag.error);
		if (m < n || strcmp(diag.error + m - n, cases[i].error) != 0)
			FAILF("case %zu: %s\n      got      %s\n      expected ...%s", i, cases[i].text,
			      diag.error, cases[i].error);
	}
}

TEST(edit_distance)
{
	CHECK_EQ_INT(pw_edit_distance("allow", "allow"), 0);
	CHECK_EQ_INT(pw_edit_distance("alow", "allow"), 1);
	CHECK_EQ_INT(pw_edit_distance("tpc", "tcp"), 1);	/* a swap is one edit */
	CHECK_EQ_INT(pw_edit_distance("", "in"), 2);
	CHECK_EQ_INT(pw_edit_distance("kitten", "sitting"), 3);
	CHECK(pw_closest_from("x", (const char *const[]){ "in", NULL }) == NULL);
	CHECK(pw_closest_from("gone.policy", (const char *const[]){ "dns.policy", NULL }) == NULL);
}

TEST(did_you_mean_include_path)
{
	char dir[] = "/tmp/pw-errors-XXXXXX", path[128], cmd[160];
	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/sub", dir);
	REQUIRE(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/sub/base.policy", dir);
	FILE *f = fopen(path, "w");
	REQUIRE(f != NULL);
	fputs("allow in tcp port 22\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/main.policy", dir);
	f = fopen(path, "w");
	REQUIRE(f != NULL);
	fputs("include \"sub/bsae.policy\"\ninclude \"sub/other.policy\"\n", f);
	fclose(f);
	pw_policy_free(&pol);
	pw_diag_free(&diag);
	CHECK(pw_policy_parse_file(path, &pol, &diag) != 0);
	REQUIRE(diag.nerr == 2);
	CHECK(strstr(diag.errs[0].msg, "No such file or directory; did you mean \"sub/base.policy\"?") != NULL);
	CHECK(strstr(diag.errs[1].msg, "did you mean") == NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

/* Every string written as JSON is valid UTF-8 JSON, whatever its bytes. */
TEST(json_strings_are_valid_utf8)
{
	char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	REQUIRE(f != NULL);
	pw_json_str(f, "eth\xff\"1\x1b/caf\xc3\xa9\xed\xa0\x80");	/* bad byte, quote, ESC, é, a surrogate */
	fputc(' ', f);
	pw_json_str(f, NULL);
	fclose(f);
	CHECK_EQ_STR(buf, "\"eth\xef\xbf\xbd\\\"1\\u001B/caf\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\" null");
	json_error_t e;
	buf[strlen(buf) - 5] = '\0';
	json_t *v = json_loads(buf, JSON_DECODE_ANY, &e);
	CHECK(v != NULL && json_is_string(v));
	json_decref(v);
	char *c = pw_utf8_clean("ok \xf4\x90\x80\x80 \xc0\xaf");	/* past U+10FFFF, overlong */
	REQUIRE(c != NULL);
	CHECK_EQ_STR(c, "ok \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd");
	free(c);
}

PW_TEST_MAIN()
