/* test_import.c - `portwall import`: each cell shape of the vendor tables
 * read exactly (ports, protocols, marks, doubts; directions), and each
 * format turned into its exact draft rules, REVIEW and skipped lines.
 * No root needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "policy/import.h"
#include "policy/policy.h"

/* "tcp 80-80,8082 | mark | configurable | doubt": what a port cell says. */
static const char *ports_of(const char *cell)
{
	static char buf[1024];
	struct pw_imp_ports p;
	size_t w = 0;

	pw_imp_ports_parse(cell, &p);
	for (size_t i = 0; i < p.n; i++)
		w += (size_t)snprintf(buf + w, sizeof(buf) - w, "%s%s %u-%u", i ? "," : "",
				      p.p[i].protos == (PW_P_TCP | PW_P_UDP) ? "tcp/udp" :
				      p.p[i].protos == PW_P_TCP ? "tcp" : p.p[i].protos == PW_P_UDP ? "udp" : "?",
				      p.p[i].lo, p.p[i].hi);
	snprintf(buf + w, sizeof(buf) - w, " | %s | %s | %s | %s", p.mark, p.sides ? "sides" : "",
		 p.configurable, p.doubt);
	return buf;
}

TEST(port_cells)
{
	CHECK_EQ_STR(ports_of("TCP 80, 8082"), "tcp 80-80,tcp 8082-8082 |  |  |  | ");
	CHECK_EQ_STR(ports_of("25"), "? 25-25 |  |  |  | ");
	CHECK_EQ_STR(ports_of("Port 443"), "? 443-443 |  |  |  | ");
	CHECK_EQ_STR(ports_of("Port 5222 (configurable)"), "? 5222-5222 |  |  | (configurable) | ");
	CHECK_EQ_STR(ports_of("Port 587 (configurable in Unified CCX Administration)"),
		     "? 587-587 |  |  | (configurable in Unified CCX Administration) | ");
	/* a sentence after the port: the port is clear, the words are not ports */
	CHECK_EQ_STR(ports_of("Port 7443 is used for secure BOSH connections to the XMPP eventing server."),
		     "? 7443-7443 |  |  |  | ");
	/* footnote marks, and Side A / Side B */
	CHECK_EQ_STR(ports_of("TCP 1433 \xc2\xb9"), "tcp 1433-1433 | \xc2\xb9 |  |  | ");
	CHECK_EQ_STR(ports_of("Side A: TCP 42027 \xc2\xb9 Side B: TCP 43027 \xc2\xb9"),
		     "tcp 42027-42027,tcp 43027-43027 | \xc2\xb9 | sides |  | ");
	/* ranges, lists, both protocols, a protocol per port */
	CHECK_EQ_STR(ports_of("1024 - 65535"), "? 1024-65535 |  |  |  | ");
	CHECK_EQ_STR(ports_of("UDP 16384\xe2\x80\x93" "32767"), "udp 16384-32767 |  |  |  | ");
	CHECK_EQ_STR(ports_of("Ports 1024 to 65535"), "? 1024-65535 |  |  |  | ");
	CHECK_EQ_STR(ports_of("TCP/UDP 53"), "tcp/udp 53-53 |  |  |  | ");
	CHECK_EQ_STR(ports_of("TCP 5060, UDP 5060"), "tcp 5060-5060,udp 5060-5060 |  |  |  | ");
	CHECK_EQ_STR(ports_of("443/tcp, 53/UDP"), "tcp 443-443,udp 53-53 |  |  |  | ");
	/* what is not read with confidence says why */
	CHECK_EQ_STR(ports_of("8O"), " |  |  |  | \"8O\" runs into letters: not read as a port");
	CHECK_EQ_STR(ports_of("TCP 70000"), " |  |  |  | \"70000\" is not a port (1-65535) or a range of them");
	CHECK_EQ_STR(ports_of("443-80"), " |  |  |  | \"443-80\" is not a port (1-65535) or a range of them");
	CHECK_EQ_STR(ports_of("Port 80 (see note 3)"), "? 80-80 |  |  |  | the cell says \"(see note 3)\" beside its ports");
	CHECK_EQ_STR(ports_of("Port 8080, or the port set in Admin (default 8443)"),
		     "? 8080-8080 |  |  |  | the cell's text has more numbers than its ports: \"or the port set in Admin (default 8443)\"");
	CHECK_EQ_STR(ports_of("Any"), " |  |  |  | no port number in \"Any\"");
}

TEST(clean_cells)
{
	char *c = pw_imp_clean("<p>Used for</p> <ul style=\"x\"> <li>\xe2\x80\xa2 From A &amp; B</li> </ul>", 64);
	CHECK_EQ_STR(c, "Used for From A & B");
	free(c);
	c = pw_imp_clean("  \xe2\x80\x94 ", 6);	/* a lone em dash is an empty cell */
	CHECK(c == NULL);
	c = pw_imp_clean("TCP 1433 <sup>1</sup>", 21);	/* an HTML footnote becomes a mark */
	CHECK_EQ_STR(c, "TCP 1433 \xc2\xb9");
	free(c);
	c = pw_imp_clean("a\xc2\xa0\tb", 5);
	CHECK_EQ_STR(c, "a b");
	free(c);
}

TEST(direction_cells)
{
	CHECK_EQ_INT(pw_imp_dir_parse("Bidirectional"), PW_IMP_D_BIDI);
	CHECK_EQ_INT(pw_imp_dir_parse("Outward, from Customer Collaboration Platform to the Exchange Server."),
		     PW_IMP_D_OUT);
	CHECK_EQ_INT(pw_imp_dir_parse("Inward, from the CCE MR PG to the SocialMiner server."), PW_IMP_D_IN);
	CHECK_EQ_INT(pw_imp_dir_parse("Unidirectional, Inward from the Internet to Cisco Customer "
				      "Collaboration Platform server."), PW_IMP_D_IN);
	CHECK_EQ_INT(pw_imp_dir_parse("Inbound"), PW_IMP_D_IN);
	CHECK_EQ_INT(pw_imp_dir_parse("Outbound"), PW_IMP_D_OUT);
	CHECK_EQ_INT(pw_imp_dir_parse(NULL), PW_IMP_D_NONE);
	CHECK_EQ_INT(pw_imp_dir_parse("Inbound and outbound"), PW_IMP_D_UNCLEAR);
	CHECK_EQ_INT(pw_imp_dir_parse("Sideways"), PW_IMP_D_UNCLEAR);
	CHECK_EQ_INT(pw_imp_notes_dir("Sends events. Outward, from CCP to the XMPP server."), PW_IMP_D_OUT);
	CHECK_EQ_INT(pw_imp_notes_dir("Receives events.  Inward, from CCX to the CCP server."), PW_IMP_D_IN);
	CHECK_EQ_INT(pw_imp_notes_dir("communicates outward to the internet"), PW_IMP_D_NONE);
	CHECK_EQ_INT(pw_imp_proto_hint("Email (secure IMAP/IMAPS)"), PW_P_TCP);
	CHECK_EQ_INT(pw_imp_proto_hint("This TCP port is enabled"), PW_P_TCP);
	CHECK_EQ_INT(pw_imp_proto_hint("Media routing (in CCE deployments)"), 0);
}

/* The draft's rows: everything after its "default out allow" line. */
static char *draft;
static const char *body(const char *text, enum pw_imp_format fmt)
{
	struct pw_imp_result r;
	size_t len;
	char err[1024];

	free(draft);
	draft = NULL;
	if (pw_imp_run("t.txt", text, strlen(text), fmt, &r, &draft, &len, err, sizeof(err))) {
		pw_imp_result_free(&r);
		snprintf(err + strlen(err), sizeof(err) - strlen(err), " (failed)");
		return strdup(err);	/* leaks in a failing test only */
	}
	pw_imp_result_free(&r);
	const char *b = strstr(draft, "default out allow\n");
	return b ? b + strlen("default out allow\n") : draft;
}

#define HDR "Listener (Process or Application Protocol)\tListener Protocol and Port\tRemote Device (Process or " \
	    "Application Protocol)\tRemote Protocol and Port\tTraffic Direction\tNotes\n"
#define HDR_ROW "Listener (Process or Application Protocol) | Listener Protocol and Port | Remote Device (Process " \
		"or Application Protocol) | Remote Protocol and Port | Traffic D..."

TEST(tsv_rows)
{
	const char *t = "Table 1: Cisco Finesse Server\n\n" HDR
			"HTTP\tTCP 80, 8082\tBrowser\t\xe2\x80\x94\tBidirectional\tUnsecure port\n\n" HDR
			"Administration & Data Server settings\t\t\t\t\t\n"
			"JDBC (SQL)\t\t\tTCP 1433 \xc2\xb9\tBidirectional\tConnection to the AWDB\n"
			"\xc2\xb9The ports listed are the default ports.\n";
	CHECK_EQ_STR(body(t, PW_IMP_AUTO),
		     "\n# from t.txt:3: " HDR_ROW "\n# skipped: the header row\n"
		     "\n# from t.txt:4: HTTP | TCP 80, 8082 | Browser | - | Bidirectional | Unsecure port\n"
		     "allow in  tcp port 80,8082 comment \"HTTP (Browser)\"\n"
		     "\n# from t.txt:6: " HDR_ROW "\n# skipped: the header row again\n"
		     "\n# from t.txt:7: Administration & Data Server settings | - | - | - | - | -\n"
		     "# skipped: no port: a heading of the rows below (\"Administration & Data Server settings\")\n"
		     "\n# from t.txt:8: JDBC (SQL) | - | - | TCP 1433 \xc2\xb9 | Bidirectional | Connection to the AWDB\n"
		     "# REVIEW: footnote \xc2\xb9: \"The ports listed are the default ports.\"\n"
		     "allow out tcp port 1433 comment \"JDBC (SQL)\"\n");
}

TEST(tsv_directions)
{
	const char *t = HDR
		"XMPP (IM) notifications\tPort 5222 (configurable)\t\t\tOutward, from SocialMiner to the configured "
		"XMPP Notifications server.\tSends notifications.\n"
		"XMPP (IM)\tPort 5280\t\t\tBidirectional\tSends IM.  Outward, from CCP to the XMPP server.\n"
		"Media routing\tPort 38001\t\t\tInward, from the CCE MR PG to the SocialMiner server.\tMR PG\n"
		"HTTPS\tPort 443\t\t\tBidirectional\t<ul><li>\xe2\x80\xa2 From the server to the internet. It "
		"communicates outward to fetch posts.</li></ul>\n"
		"Webhook (HTTPS)\tPort 10443\t\t\tUnidirectional, Inward from the Internet to the server.\tPublic\n"
		"Odd\tPort 9000\t\t\tSideways\t\n"
		"None\tUDP 9001\t\t\t\t\n";
	CHECK_EQ_STR(body(t, PW_IMP_TSV),
		"\n# from t.txt:1: " HDR_ROW "\n# skipped: the header row\n"
		"\n# from t.txt:2: XMPP (IM) notifications | Port 5222 (configurable) | - | - | Outward, from SocialMiner "
		"to the configured XMPP Notifications server. | Sends notifications.\n"
		"# REVIEW: the table says \"(configurable)\": the port it gives is the default; write the one your "
		"deployment uses\n"
		"# REVIEW: the table names the peer, \"the configured XMPP Notifications server\": narrow the rule "
		"with to and its addresses\n"
		"allow out tcp port 5222 comment \"XMPP (IM) notifications\"\n"
		"\n# from t.txt:3: XMPP (IM) | Port 5280 | - | - | Bidirectional | Sends IM. Outward, from CCP to the "
		"XMPP server.\n"
		"# REVIEW: Traffic Direction says \"Bidirectional\", the notes say \"Outward, from ...\": taken as "
		"outbound (the host connects to this port); if it also listens on it, add an allow in rule\n"
		"# REVIEW: the table names the peer, \"the XMPP server\": narrow the rule with to and its addresses\n"
		"allow out tcp port 5280 comment \"XMPP (IM)\"\n"
		"\n# from t.txt:4: Media routing | Port 38001 | - | - | Inward, from the CCE MR PG to the SocialMiner "
		"server. | MR PG\n"
		"# REVIEW: the row names no protocol: tcp assumed\n"
		"# REVIEW: the table names the peer, \"the CCE MR PG\": narrow the rule with from and its addresses\n"
		"allow in  tcp port 38001 comment \"Media routing\"\n"
		"\n# from t.txt:5: HTTPS | Port 443 | - | - | Bidirectional | From the server to the internet. It "
		"communicates outward to fetch posts.\n"
		"# REVIEW: the notes say the host also connects outward (\"outward to fetch posts.\"): if it does on "
		"these ports, add an allow out rule\n"
		"allow in  tcp port 443 comment \"HTTPS\"\n"
		"\n# from t.txt:6: Webhook (HTTPS) | Port 10443 | - | - | Unidirectional, Inward from the Internet to "
		"the server. | Public\n"
		"allow in  tcp port 10443 comment \"Webhook (HTTPS)\"\n"
		"\n# from t.txt:7: Odd | Port 9000 | - | - | Sideways | -\n"
		"# REVIEW: the row names no protocol: tcp assumed\n"
		"# REVIEW: Traffic Direction \"Sideways\" is neither inward, outward nor bidirectional: the listener "
		"port is taken as inbound\n"
		"allow in  tcp port 9000 comment \"Odd\"\n"
		"\n# from t.txt:8: None | UDP 9001 | - | - | - | -\n"
		"# REVIEW: no Traffic Direction: the listener port is taken as inbound\n"
		"allow in  udp port 9001 comment \"None\"\n");
}

TEST(tsv_without_header_and_duplicates)
{
	const char *t = "HTTP\tPort 80\t\tBidirectional\n" HDR
			"HTTP\tPort 80\t\t\tBidirectional\tA\n"
			"HTTP again\tPort 80\t\t\tBidirectional\tB\n"
			"Weird\t8O\t\t\tInbound\t\n";
	CHECK_EQ_STR(body(t, PW_IMP_TSV),
		"\n# from t.txt:1: HTTP | Port 80 | - | Bidirectional\n"
		"# skipped: a row before any header row: which column is which is unknown\n"
		"\n# from t.txt:2: " HDR_ROW "\n# skipped: the header row\n"
		"\n# from t.txt:3: HTTP | Port 80 | - | - | Bidirectional | A\n"
		"allow in  tcp port 80 comment \"HTTP\"\n"
		"\n# from t.txt:4: HTTP again | Port 80 | - | - | Bidirectional | B\n"
		"# skipped: allow in  tcp port 80 comment \"HTTP again\": the same rule as line 27\n"
		"\n# from t.txt:5: Weird | 8O | - | - | Inbound | -\n"
		"# skipped: no port read: \"8O\" runs into letters: not read as a port\n");
}

/* another vendor's plain column names, a Protocol column */
TEST(tsv_plain_columns)
{
	const char *t = "Service\tProtocol\tPort\tDirection\tDescription\n"
			"SIP\tUDP\t5060\tInbound\tsignalling\n"
			"RTP\tudp\t16384-32767\tInbound\tmedia\n"
			"Provisioning\tTCP\t8443\tOutbound\tto the cloud\n";
	CHECK_EQ_STR(body(t, PW_IMP_AUTO),
		"\n# from t.txt:1: Service | Protocol | Port | Direction | Description\n# skipped: the header row\n"
		"\n# from t.txt:2: SIP | UDP | 5060 | Inbound | signalling\n"
		"allow in  udp port 5060 comment \"SIP\"\n"
		"\n# from t.txt:3: RTP | udp | 16384-32767 | Inbound | media\n"
		"allow in  udp port 16384-32767 comment \"RTP\"\n"
		"\n# from t.txt:4: Provisioning | TCP | 8443 | Outbound | to the cloud\n"
		"allow out tcp port 8443 comment \"Provisioning\"\n");
}

TEST(cells_rows)
{
	const char *t = "Listener (Process or Application Protocol)\n\nA value.\n\n"
			"Table 1. Ports\n\n"
			"Listener (Process or Application Protocol)\n\nListener Protocol and Port\n\n"
			"Remote Device (Process or Application Protocol)\n\nRemote Port\n\nTraffic Direction\n\nNotes\n\n"
			"HTTP\n\nPort 80\n\nBidirectional\n\nUsed for HTTP:\n\n  \xe2\x80\xa2 From the UI.\n\n"
			"  \xe2\x80\xa2 From the internet.\n\n"
			"Eventing and chat (secure BOSH)\n\n"
			"Port 7443 is used for secure BOSH connections to the XMPP eventing server.\n\nBidirectional\n\n"
			"The secure BOSH connection.\n\n"
			"JDBC\n\nTCP 1433\n\nAWDB\n\nTCP 1434\n\nBidirectional\n\nSQL.\n";
	CHECK_EQ_STR(body(t, PW_IMP_AUTO),
		"\n# from t.txt:7: Listener (Process or Application Protocol) | Listener Protocol and Port | Remote "
		"Device (Process or Application Protocol) | Remote Port | Traffic Direction | No...\n"
		"# skipped: the header row\n"
		"\n# from t.txt:19: HTTP | Port 80 | Bidirectional | Used for HTTP: From the UI. From the internet.\n"
		"allow in  tcp port 80 comment \"HTTP\"\n"
		"\n# from t.txt:31: Eventing and chat (secure BOSH) | Port 7443 is used for secure BOSH connections to "
		"the XMPP eventing server. | Bidirectional | The secure BOSH connection.\n"
		"allow in  tcp port 7443 comment \"Eventing and chat (secure BOSH)\"\n"
		"\n# from t.txt:39: JDBC | TCP 1433 | AWDB | TCP 1434 | Bidirectional | SQL.\n"
		"allow in  tcp port 1433 comment \"JDBC (AWDB)\"\n"
		"allow out tcp port 1434 comment \"JDBC (AWDB)\"\n");
}

TEST(html_and_csv_rows)
{
	const char *h = "<table><tr><th>Listener</th><th>Listener Protocol and Port</th><th>Remote Protocol and Port"
			"</th><th>Traffic Direction</th></tr>\n"
			"<tr><td>JDBC &amp; SQL</td><td>&mdash;</td><td>TCP 1433 <sup>1</sup></td><td>Bidirectional"
			"</td></tr>\n<tr>\n<td>SIP</td><td>UDP 5060-5061</td><td></td><td>Inbound</td></tr></table>\n";
	CHECK_EQ_STR(body(h, PW_IMP_AUTO),
		"\n# from t.txt:1: Listener | Listener Protocol and Port | Remote Protocol and Port | Traffic Direction\n"
		"# skipped: the header row\n"
		"\n# from t.txt:2: JDBC & SQL | - | TCP 1433 \xc2\xb9 | Bidirectional\n"
		"# REVIEW: footnote \xc2\xb9 on the port: read the table's note on it\n"
		"allow out tcp port 1433 comment \"JDBC & SQL\"\n"
		"\n# from t.txt:3: SIP | UDP 5060-5061 | - | Inbound\n"
		"allow in  udp port 5060-5061 comment \"SIP\"\n");
	const char *c = "Listener,Listener Protocol and Port,Remote Protocol and Port,Traffic Direction,Notes\n"
			"Syslog,,\"UDP 514, TCP 6514\",Outbound,\"logs, \"\"all\"\"\"\n";
	CHECK_EQ_STR(body(c, PW_IMP_AUTO),
		"\n# from t.txt:1: Listener | Listener Protocol and Port | Remote Protocol and Port | Traffic Direction "
		"| Notes\n# skipped: the header row\n"
		"\n# from t.txt:2: Syslog | - | UDP 514, TCP 6514 | Outbound | logs, \"all\"\n"
		"allow out udp port 514 comment \"Syslog\"\n"
		"allow out tcp port 6514 comment \"Syslog\"\n");
}

TEST(text_rows)
{
	const char *t = "Toronto:\n  \xe2\x80\xa2 HTTP Endpoints: https://pop0-ccaws.example.net/cca.ws/x.asmx\n"
			"  \xe2\x80\xa2 TCP Endpoints: pop0-ccans.example.net:443\n\n"
			"  \xe2\x80\xa2 XMPP (port 5222) \xe2\x80\x93 Used for presence.\n\n"
			"Important: Do not open the firewall for incoming traffic.\n";
	CHECK_EQ_STR(body(t, PW_IMP_AUTO),
		"\n# from t.txt:2: HTTP Endpoints: https://pop0-ccaws.example.net/cca.ws/x.asmx\n"
		"allow out tcp port 443 to pop0-ccaws.example.net comment \"HTTP Endpoints (Toronto)\"\n"
		"\n# from t.txt:3: TCP Endpoints: pop0-ccans.example.net:443\n"
		"allow out tcp port 443 to pop0-ccans.example.net comment \"TCP Endpoints (Toronto)\"\n"
		"\n# from t.txt:5: XMPP (port 5222) \xe2\x80\x93 Used for presence.\n"
		"# REVIEW: the text names no host for this port: outbound to any address, as line 7 says: "
		"\"Important: Do not open the firewall for incoming traffic.\"\n"
		"allow out tcp port 5222 comment \"XMPP\"\n");
	/* without a sentence that says which way, a port with no host is not guessed */
	CHECK_EQ_STR(body("XMPP (port 5222) is used for presence.\n", PW_IMP_TEXT),
		"\n# from t.txt:1: XMPP (port 5222) is used for presence.\n"
		"# skipped: a port the text gives with no host and no direction: write its rule by hand\n");
}

TEST(draft_header_and_names)
{
	body(HDR "HTTP\tPort 80\t\t\tBidirectional\tx\n", PW_IMP_TSV);
	CHECK(strstr(draft, "# DRAFT policy imported by `portwall import` from t.txt (read as tsv).\n") == draft);
	CHECK(strstr(draft, "# default out allow: the table lists no outbound flow.\n"));
	CHECK(strstr(draft, "\npolicy \"imported from t.txt\"\n\ndefault in  drop\ndefault out allow\n"));
	CHECK(strstr(draft, "0 \"# REVIEW:\" lines"));
	body(HDR "X\t\t\tTCP 25\tOutbound\tx\n", PW_IMP_TSV);
	CHECK(strstr(draft, "# default out allow: a vendor table lists the vendor's flows"));
	/* a comment keeps its quotes escaped; the draft still parses */
	CHECK_EQ_STR(body(HDR "Say \"hi\" \\o/\tTCP 7\t\t\tInbound\tx\n", PW_IMP_TSV),
		     "\n# from t.txt:1: " HDR_ROW "\n# skipped: the header row\n"
		     "\n# from t.txt:2: Say \"hi\" \\o/ | TCP 7 | - | - | Inbound | x\n"
		     "allow in  tcp port 7 comment \"Say \\\"hi\\\" \\\\o/\"\n");
	/* a host a rule cannot name is skipped with the reason */
	CHECK_EQ_STR(body("Endpoints: bad_host..example.net:443\n", PW_IMP_TEXT),
		     "\n# from t.txt:1: Endpoints: bad_host..example.net:443\n"
		     "# skipped: \"bad_host..example.net\" is no host name a rule can name\n");
	free(draft);
	draft = NULL;
}

/* one host in more rows than a name has peer classes: one rule holds the
 * ports, the other rows say where they went, and the draft stays valid */
TEST(one_host_in_many_rows)
{
	char t[4096];
	size_t w = 0;

	for (int i = 1; i <= 17; i++)
		w += (size_t)snprintf(t + w, sizeof(t) - w, "Endpoint %d: api.example.net:%d\n", i, 8000 + i);
	const char *b = body(t, PW_IMP_TEXT);
	CHECK(strstr(b, "\n# from t.txt:1: Endpoint 1: api.example.net:8001\n"
		      "# REVIEW: the row names no protocol: tcp assumed\n"
		      "# REVIEW: the table gives api.example.net in 16 more rows below: this rule holds their ports "
		      "too (a host name feeds at most 16 peer-class shapes)\n"
		      "allow out tcp port 8001,8002,8003,8004,8005,8006,8007,8008,8009,8010,8011,8012,8013,8014,"
		      "8015,8016,8017 to api.example.net comment \"Endpoint 1\"\n") == b);
	CHECK(strstr(b, "\n# from t.txt:17: Endpoint 17: api.example.net:8017\n# skipped: allow out tcp port 8017 "
		      "to api.example.net comment \"Endpoint 17\": its ports are in the rule for api.example.net "
		      "at line 27\n"));
	size_t n = 0;
	for (const char *p = b; (p = strstr(p, ": its ports are in the rule for")); p++)
		n++;
	CHECK_EQ_INT(n, 16);
	/* 16 rows: no merging needed, one rule each */
	t[strlen(t) - strlen("Endpoint 17: api.example.net:8017\n")] = '\0';
	b = body(t, PW_IMP_TEXT);
	CHECK(strstr(b, "allow out tcp port 8016 to api.example.net comment \"Endpoint 16\"\n"));
	free(draft);
	draft = NULL;
}

PW_TEST_MAIN()
