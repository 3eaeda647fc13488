/*
 * The brick part of the configuration: "bricks", "fence", "watchdog".  A
 * valid file loads into the right fields and puts each brick's address in
 * the VIP list; every mistake refuses the file with the key path, and the
 * fence grace must cover a cut-off node's release (and its watchdog).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "adapters/conf.h"

static char path[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/chorus-conf-bricks-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static int load(const char *json, struct chorus_conf **c, char *err, size_t errsize)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	return conf_load(path, c, err, errsize);
}

#define BRICK "{\"volume\": \"gv0\", \"host\": \"192.0.2.50\", \"address\": \"192.0.2.50/24\", " \
	      "\"interface\": \"eth0\", \"path\": \"/bricks/b1\""

static void expect(const char *json, const char *want)
{
	struct chorus_conf *c = NULL;
	char err[1024] = "";

	if (load(json, &c, err, sizeof(err)) != -EINVAL)
		fail_msg("accepted: %s", json);
	if (strstr(err, want) == NULL)
		fail_msg("message lacks \"%s\": %s", want, err);
	assert_null(c);
}

static void test_valid(void **unused)
{
	static const char json[] =
		"{\"vips\": [{\"address\": \"192.0.2.10/24\", \"interface\": \"eth0\"}],\n"
		" \"bricks\": {\"script\": \"/opt/chorus-brick\", \"pool\": \"gl\",\n"
		"   \"glusterd_vol\": \"/etc/glusterfs/node1.vol\",\n"
		"   \"release_timeout_ms\": 20000, \"restart_max\": 2, \"failure_hold_ms\": 60000,\n"
		"   \"list\": [" BRICK ", \"device\": \"/dev/mapper/lun1\", \"fstype\": \"xfs\",\n"
		"     \"mount_options\": \"noatime,inode64\",\n"
		"     \"home_uuid\": \"5fbddbce-07c5-4189-92d4-2fbebbd06c9a\", \"set\": \"r0\"}]},\n"
		" \"fence\": {\"mode\": \"grace\", \"grace_ms\": 40000},\n"
		" \"watchdog\": {\"device\": \"/dev/watchdog\", \"timeout_s\": 15}}\n";
	struct chorus_conf *c = NULL;
	char err[1024] = "";
	size_t brick_vip = 0;

	(void)unused;
	if (load(json, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->n_bricks, 1);
	assert_string_equal(c->bricks[0].volume, "gv0");
	assert_string_equal(c->bricks[0].fstype, "xfs");
	assert_string_equal(c->bricks[0].mount_options, "noatime,inode64");
	assert_string_equal(c->bricks[0].set, "r0");
	assert_string_equal(c->brick_script, "/opt/chorus-brick");
	assert_string_equal(c->glusterd_vol, "/etc/glusterfs/node1.vol");
	assert_int_equal(c->brick_release_timeout_ms, 20000);
	assert_int_equal(c->brick_restart_max, 2);
	assert_int_equal(c->brick_failure_hold_ms, 60000);
	assert_int_equal(c->fence_mode, CONF_FENCE_GRACE);
	assert_int_equal(c->fence_grace_ms, 40000);
	assert_string_equal(c->watchdog_device, "/dev/watchdog");
	assert_int_equal(c->watchdog_timeout_s, 15);
	/* the brick's address is a resource like a VIP, in the brick pool */
	assert_int_equal(c->n_vips, 2);
	for (size_t i = 0; i < c->n_vips; i++)
		if (c->vips[i].brick)
			brick_vip = i + 1;
	assert_true(brick_vip > 0);
	assert_int_equal(c->vips[brick_vip - 1].brick, 1);
	assert_string_equal(c->vips[brick_vip - 1].pool, "gl");
	assert_string_equal(c->vips[brick_vip - 1].ifname, "eth0");
	conf_free(c);

	/* command mode: argv without a shell */
	if (load("{\"bricks\": {\"list\": [" BRICK "}]},\n"
		 " \"fence\": {\"mode\": \"command\", \"command\": [\"/usr/sbin/fence-it\", "
		 "\"--off\"], \"timeout_ms\": 30000}}", &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->fence_mode, CONF_FENCE_COMMAND);
	assert_int_equal(c->n_fence_args, 2);
	assert_string_equal(c->fence_args[1], "--off");
	assert_int_equal(c->fence_timeout_ms, 30000);
	assert_int_equal(c->brick_failure_hold_ms, 600000);	/* the default */
	assert_string_equal(c->glusterd_vol, "/etc/glusterfs/glusterd.vol");
	conf_free(c);
}

/* Only what glusterd cannot know in chorus.json: "volume" and "path" come
 * from glusterd's volume info by the brick's host (issue 17).  A brick that
 * does not resolve to exactly one of glusterd's is taken out, with the
 * reason, never guessed. */
static void test_from_gluster(void **unused)
{
	static const char json[] =
		"{\"vips\": [{\"address\": \"192.0.2.10/24\", \"interface\": \"eth0\"}],\n"
		" \"bricks\": {\"list\": [\n"
		"  {\"host\": \"b1.example.net\", \"address\": \"192.0.2.51/24\",\n"
		"   \"interface\": \"eth0\", \"device\": \"/dev/mapper/lun1\", \"fstype\": \"xfs\"},\n"
		"  {\"host\": \"b2.example.net\", \"address\": \"192.0.2.52/24\",\n"
		"   \"interface\": \"eth0\"},\n"
		"  {\"host\": \"b3.example.net\", \"address\": \"192.0.2.53/24\",\n"
		"   \"interface\": \"eth0\", \"volume\": \"gv1\"},\n"
		"  {\"host\": \"b4.example.net\", \"address\": \"192.0.2.54/24\",\n"
		"   \"interface\": \"eth0\"},\n"
		"  {\"volume\": \"gv0\", \"host\": \"b5.example.net\", \"address\": \"192.0.2.55/24\",\n"
		"   \"interface\": \"eth0\", \"path\": \"/bricks/b5\"}]},\n"
		" \"fence\": {\"mode\": \"none\"}}\n";
	static const struct conf_gluster_brick g[] = {
		{"gv0", "b1.example.net", "/bricks/gv0-1"},
		{"gv0", "b2.example.net", "/bricks/gv0-2"},
		{"gv1", "b2.example.net", "/bricks/gv1-2"},
		{"gv0", "b3.example.net", "/bricks/gv0-3"},
		{"gv1", "b3.example.net", "/bricks/gv1-3"},
	};
	struct chorus_conf *c = NULL;
	struct conf_unresolved *u = NULL;
	size_t nu = 0, nb = 0;
	char err[1024] = "";

	(void)unused;
	if (load(json, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->n_bricks, 5);
	assert_true(c->bricks[0].from_gluster);
	assert_string_equal(c->bricks[0].volume, "");
	assert_false(c->bricks[4].from_gluster);
	assert_int_equal(conf_bricks_resolve(c, g, 5, NULL, &u, &nu), 0);
	/* b1: the only brick on its host; b3: the one of the volume given;
	 * b5: named in full, untouched */
	assert_int_equal(c->n_bricks, 3);
	assert_string_equal(c->bricks[0].volume, "gv0");
	assert_string_equal(c->bricks[0].path, "/bricks/gv0-1");
	assert_string_equal(c->bricks[0].device, "/dev/mapper/lun1");
	assert_string_equal(c->bricks[1].host, "b3.example.net");
	assert_string_equal(c->bricks[1].path, "/bricks/gv1-3");
	assert_int_equal(c->bricks[1].index, 2);
	assert_string_equal(c->bricks[2].path, "/bricks/b5");
	/* b2: two bricks on its host, which one is not for chorus to guess;
	 * b4: glusterd names none */
	assert_int_equal(nu, 2);
	assert_string_equal(u[0].brick.host, "b2.example.net");
	assert_non_null(strstr(u[0].reason, "2 bricks"));
	assert_non_null(strstr(u[0].reason, "gv1:/bricks/gv1-2"));
	assert_string_equal(u[1].brick.host, "b4.example.net");
	assert_non_null(strstr(u[1].reason, "no brick"));
	/* the unresolved bricks' addresses are not declared: they leave the
	 * VIP list, and the rest still point at the right bricks */
	assert_int_equal(c->n_vips, 4);
	for (size_t i = 0; i < c->n_vips; i++) {
		char a[CHORUS_ADDR_STRLEN];

		if (!c->vips[i].brick)
			continue;
		nb++;
		assert_memory_equal(&c->vips[i].addr, &c->bricks[c->vips[i].brick - 1].addr,
				    sizeof(c->vips[i].addr));
		res_addr_format(&c->vips[i].addr, a, sizeof(a));
		assert_true(strcmp(a, "192.0.2.52/24") != 0 && strcmp(a, "192.0.2.54/24") != 0);
	}
	assert_int_equal(nb, 3);
	/* a later answer that names b2's brick alone would resolve it */
	assert_int_equal(conf_brick_matches(&u[0].brick, g, 2, &nb), 1);
	assert_int_equal(nb, 1);
	free(u);
	conf_free(c);

	/* glusterd did not answer: every brick left to it is out, with why */
	if (load(json, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	u = NULL;
	nu = 0;
	assert_int_equal(conf_bricks_resolve(c, NULL, 0, "gluster: timed out", &u, &nu), 0);
	assert_int_equal(c->n_bricks, 1);
	assert_int_equal(nu, 4);
	assert_non_null(strstr(u[3].reason, "gluster: timed out"));
	free(u);
	conf_free(c);

	/* two entries that resolve to one brick: the second is out */
	if (load("{\"bricks\": {\"list\": [{\"host\": \"b1.example.net\", \"address\": "
		 "\"192.0.2.51/24\", \"interface\": \"eth0\"}, {\"volume\": \"gv0\", \"host\": "
		 "\"b1.example.net\", \"address\": \"192.0.2.52/24\", \"interface\": \"eth0\"}]},"
		 " \"fence\": {\"mode\": \"none\"}}", &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	u = NULL;
	nu = 0;
	assert_int_equal(conf_bricks_resolve(c, g, 5, NULL, &u, &nu), 0);
	assert_int_equal(c->n_bricks, 1);
	assert_int_equal(nu, 1);
	assert_non_null(strstr(u[0].reason, "the same brick as bricks.list[0]"));
	free(u);
	conf_free(c);
	/* a host is always required: it is how glusterd's brick is found */
	expect("{\"bricks\": {\"list\": [{\"address\": \"192.0.2.51/24\", \"interface\": "
	       "\"eth0\"}]}, \"fence\": {\"mode\": \"none\"}}", "bricks.list[0].host: missing");
}

static void test_errors(void **unused)
{
	(void)unused;
	/* the fence mode is a decision, never a default */
	expect("{\"bricks\": {\"list\": [" BRICK "}]}}", ": fence: missing");
	expect("{\"bricks\": {\"glusterd_vol\": \"glusterd.vol\", \"list\": [" BRICK "}]},"
	       " \"fence\": {\"mode\": \"grace\"}}",
	       "bricks.glusterd_vol: \"glusterd.vol\" is not an absolute path");
	expect("{\"bricks\": {\"list\": [" BRICK "}]}, \"fence\": {}}", "fence.mode: missing");
	expect("{\"bricks\": {\"list\": [" BRICK "}]}, \"fence\": {\"mode\": \"stonith\"}}",
	       "fence.mode");
	expect("{\"bricks\": {\"list\": [" BRICK "}]}, \"fence\": {\"mode\": \"grace\"}}",
	       "fence.grace_ms: missing");
	expect("{\"bricks\": {\"list\": [" BRICK "}]}, \"fence\": {\"mode\": \"command\"}}",
	       "fence.command: missing");
	expect("{\"bricks\": {\"list\": [" BRICK "}]}, \"fence\": {\"mode\": \"command\", "
	       "\"command\": [\"fence-it\"]}}", "fence.command[0]");
	expect("{\"bricks\": {\"list\": [" BRICK "}]}, \"fence\": {\"mode\": \"none\", "
	       "\"grace_ms\": 5000}}", "fence.grace_ms: only with mode");
	/* the grace must cover the cut-off node's release (120 s default) */
	expect("{\"bricks\": {\"list\": [" BRICK "}]}, \"fence\": {\"mode\": \"grace\", "
	       "\"grace_ms\": 60000}}", "fence.grace_ms: 60000 ms is shorter");
	/* ... and its watchdog */
	expect("{\"bricks\": {\"release_timeout_ms\": 10000, \"list\": [" BRICK "}]},"
	       " \"fence\": {\"mode\": \"grace\", \"grace_ms\": 15000},"
	       " \"watchdog\": {\"device\": \"/dev/watchdog\", \"timeout_s\": 10}}",
	       "watchdog.timeout_s = 22000 ms");
	expect("{\"bricks\": {\"list\": [{\"volume\": \"gv0\"}]}, \"fence\": {\"mode\": \"none\"}}",
	       "bricks.list[0].host: missing");
	expect("{\"bricks\": {\"list\": [" BRICK ", \"colour\": 1}]}, \"fence\": {\"mode\": "
	       "\"none\"}}", "bricks.list[0].colour: unknown key");
	expect("{\"bricks\": {\"list\": [" BRICK ", \"device\": \"/dev/sdb\"}]}, \"fence\": "
	       "{\"mode\": \"none\"}}", "\"device\" and \"fstype\" go together");
	expect("{\"bricks\": {\"list\": [{\"volume\": \"gv 0\", \"host\": \"h\", \"address\": "
	       "\"192.0.2.50/24\", \"interface\": \"eth0\", \"path\": \"/b\"}]}, \"fence\": "
	       "{\"mode\": \"none\"}}", "bricks.list[0].volume");
	expect("{\"bricks\": {\"list\": [" BRICK ", \"set\": \"a b\"}]}, \"fence\": "
	       "{\"mode\": \"none\"}}", "bricks.list[0].set");
	expect("{\"bricks\": {\"list\": [" BRICK ", \"home_uuid\": \"abc\"}]}, \"fence\": "
	       "{\"mode\": \"none\"}}", "is not a UUID");
	/* one identity space with the client VIPs, and no brick twice */
	expect("{\"vips\": [{\"address\": \"192.0.2.50/24\", \"interface\": \"eth1\"}],"
	       " \"bricks\": {\"list\": [" BRICK "}]}, \"fence\": {\"mode\": \"none\"}}",
	       "bricks.list[0].address: 192.0.2.50/24 is already used by a client VIP");
	expect("{\"bricks\": {\"list\": [" BRICK "}, {\"volume\": \"gv0\", \"host\": "
	       "\"192.0.2.50\", \"address\": \"192.0.2.51/24\", \"interface\": \"eth0\", "
	       "\"path\": \"/bricks/b1\"}]}, \"fence\": {\"mode\": \"none\"}}",
	       "bricks.list[1]: the same brick");
	expect("{\"bricks\": {\"failure_hold_ms\": 5000, \"list\": [" BRICK "}]}, \"fence\": "
	       "{\"mode\": \"none\"}}", "bricks.failure_hold_ms");
	expect("{\"bricks\": {\"failure_hold_ms\": \"10m\", \"list\": [" BRICK "}]}, \"fence\": "
	       "{\"mode\": \"none\"}}", "bricks.failure_hold_ms");
	expect("{\"watchdog\": {\"timeout_s\": 5}}", "watchdog.device: missing");
	expect("{\"watchdog\": {\"device\": \"/dev/watchdog\", \"timeout_s\": 1}}",
	       "watchdog.timeout_s");
}

#define VIPS "\"vips\": [{\"address\": \"192.0.2.10/24\", \"interface\": \"eth0\", " \
	     "\"pool\": \"nfs\"}, {\"address\": \"192.0.2.11/24\", \"interface\": \"eth0\"}]"

/* "hooks": per-pool service scripts (chorus-hooks(7)), checked when loaded:
 * a typo in a path or a pool must not wait for the next failover. */
/* Mode "agent": options on the agent's stdin, the password from a file only
 * root can read, never from chorus.json. */
#define AGENT_HEAD "{\"bricks\": {\"list\": [" BRICK "}]},\n \"fence\": {\"mode\": \"agent\", " \
		   "\"agent\": \"/usr/sbin/fence_ipmilan\", "

static void write_secrets(const char *p, const char *text, mode_t mode)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static void test_agent(void **unused)
{
	char sp[64], json[1024], err[1024] = "", in[CONF_FENCE_STDIN_MAX];
	struct chorus_conf *c = NULL;
	int fd, n;

	(void)unused;
	snprintf(sp, sizeof(sp), "/tmp/chorus-fence-secrets-XXXXXX");
	fd = mkstemp(sp);
	assert_true(fd >= 0);
	close(fd);
	write_secrets(sp, "# BMC\npassword=s3cret=x\r\n\nusername=admin\n", 0600);
	snprintf(json, sizeof(json), AGENT_HEAD "\"options\": {\"lanplus\": \"1\", \"power_wait\": 2},"
		 " \"nodes\": {\"n1\": {\"ip\": \"192.0.2.101\", \"ipport\": 6231},"
		 " \"n2\": {\"ip\": \"192.0.2.102\", \"lanplus\": \"0\"}},"
		 " \"secrets\": \"%s\", \"timeout_ms\": 20000}}", sp);
	if (geteuid() == 0) {
		if (load(json, &c, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_int_equal(c->fence_mode, CONF_FENCE_AGENT);
		assert_string_equal(c->fence_agent, "/usr/sbin/fence_ipmilan");
		assert_int_equal(c->fence_timeout_ms, 20000);
		n = conf_fence_stdin(c, "n1", "off", in, sizeof(in));
		assert_true(n > 0);
		assert_string_equal(in, "action=off\nlanplus=1\npower_wait=2\nip=192.0.2.101\n"
				    "ipport=6231\npassword=s3cret=x\nusername=admin\n");
		/* a node's own option comes after the common one: agents keep the last */
		n = conf_fence_stdin(c, "n2", "off", in, sizeof(in));
		assert_non_null(strstr(in, "lanplus=1\npower_wait=2\nip=192.0.2.102\nlanplus=0\n"));
		assert_int_equal(conf_fence_stdin(c, "n3", "off", in, sizeof(in)), -ENOENT);
		assert_int_equal(conf_fence_stdin(c, "", "off", in, sizeof(in)), -ENOENT);
		assert_int_equal(conf_fence_stdin(c, "n1", "off", in, 20), -ENOSPC);
		{
			char out[] = "ipmitool -P s3cret=x -U admin: s3cret=xs3cret=x 192.0.2.101";

			conf_fence_redact(c, out);
			assert_string_equal(out, "ipmitool -P ******** -U *****: ****************"
					    " 192.0.2.101");
		}
		conf_free(c);
		c = NULL;
		/* a bad line is refused without showing it: it may be the password */
		write_secrets(sp, "password hunter2\n", 0600);
		expect(json, "fence.secrets: ");
		if (load(json, &c, err, sizeof(err)) != -EINVAL || strstr(err, "line 1") == NULL ||
		    strstr(err, "hunter2") != NULL)
			fail_msg("bad secrets line: %s", err);
		write_secrets(sp, "password=a\nb\n", 0600);
		expect(json, "line 2: not \"name=value\"");
		write_secrets(sp, "action=reboot\n", 0600);
		expect(json, "chorus sets the action");
	}
	/* group or others may read it: refused whoever we are */
	write_secrets(sp, "password=x\n", 0640);
	expect(json, "fence.secrets: ");
	if (load(json, &c, err, sizeof(err)) != -EINVAL ||
	    (strstr(err, "mode 0640") == NULL && strstr(err, "must be root's") == NULL))
		fail_msg("group-readable secrets: %s", err);
	if (geteuid() != 0) {
		write_secrets(sp, "password=x\n", 0600);
		expect(json, "must be root's");
	}
	unlink(sp);
	expect(json, "fence.secrets: ");

	expect(AGENT_HEAD "\"nodes\": {\"n1\": {\"ip\": \"x\"}}, \"command\": [\"/bin/true\"]}}",
	       "fence.command: only with mode \"command\"");
	expect("{\"bricks\": {\"list\": [" BRICK "}]}, \"fence\": {\"mode\": \"command\", "
	       "\"command\": [\"/bin/true\"], \"agent\": \"/usr/sbin/fence_ipmilan\"}}",
	       "fence.agent: only with mode \"agent\"");
	expect("{\"bricks\": {\"list\": [" BRICK "}]}, \"fence\": {\"mode\": \"agent\", "
	       "\"nodes\": {\"n1\": {\"ip\": \"x\"}}}}", "fence.agent: missing");
	expect(AGENT_HEAD "\"options\": {}}}", "fence.nodes: missing");
	expect(AGENT_HEAD "\"nodes\": {}}}", "fence.nodes: must be an object");
	expect(AGENT_HEAD "\"nodes\": {\"n1\": {}}}}", "fence.nodes.n1: no options");
	expect(AGENT_HEAD "\"nodes\": {\"n 1\": {\"ip\": \"x\"}}}}", "not a corosync node name");
	expect(AGENT_HEAD "\"agent\": \"fence_ipmilan\"}}", "fence.agent");
	expect(AGENT_HEAD "\"nodes\": {\"n1\": {\"ip\": \"x\\ny\"}}}}",
	       "fence.nodes.n1.ip: value has a control character");
	expect(AGENT_HEAD "\"nodes\": {\"n1\": {\"ip\": \" x\"}}}}", "fence.nodes.n1.ip: value starts");
	expect(AGENT_HEAD "\"options\": {\"password\": \"x\"}, \"nodes\": {\"n1\": {\"ip\": \"x\"}}}}",
	       "fence.options.password: a password goes into the fence.secrets file");
	expect(AGENT_HEAD "\"nodes\": {\"n1\": {\"ip\": \"x\", \"passwd\": \"x\"}}}}",
	       "fence.nodes.n1.passwd: a password");
	expect(AGENT_HEAD "\"options\": {\"action\": \"reboot\"}, \"nodes\": {\"n1\": {\"ip\": \"x\"}}}}",
	       "fence.options.action: chorus sets the action");
	expect(AGENT_HEAD "\"options\": {\"a=b\": \"1\"}, \"nodes\": {\"n1\": {\"ip\": \"x\"}}}}",
	       "not an agent option name");
	expect(AGENT_HEAD "\"options\": {\"lanplus\": true}, \"nodes\": {\"n1\": {\"ip\": \"x\"}}}}",
	       "fence.options.lanplus");
	expect(AGENT_HEAD "\"options\": [], \"nodes\": {\"n1\": {\"ip\": \"x\"}}}}",
	       "fence.options: must be an object");
	expect(AGENT_HEAD "\"nodes\": {\"n1\": {\"ip\": \"x\"}}, \"secrets\": \"rel\"}}",
	       "fence.secrets");
}

static void test_hooks(void **unused)
{
	struct chorus_conf *c = NULL;
	char err[1024] = "";

	(void)unused;
	if (load("{" VIPS ", \"hooks\": [{\"pool\": \"nfs\", \"script\": \"/bin/true\", "
		 "\"timeout_ms\": 2500, \"args\": [\"--grace\", \"\"]},\n"
		 " {\"pool\": \"default\", \"script\": \"/bin/sh\"}]}", &c, err,
		 sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->n_hooks, 2);
	assert_string_equal(c->hooks[0].pool, "nfs");
	assert_string_equal(c->hooks[0].script, "/bin/true");
	assert_int_equal(c->hooks[0].timeout_ms, 2500);
	assert_int_equal(c->hooks[0].n_args, 2);
	assert_string_equal(c->hooks[0].args[0], "--grace");
	assert_string_equal(c->hooks[0].args[1], "");
	assert_int_equal(c->hooks[1].timeout_ms, 10000);	/* the default */
	assert_int_equal(c->hooks[1].n_args, 0);
	conf_free(c);

	expect("{" VIPS ", \"hooks\": {}}", ": hooks: expected an array");
	expect("{" VIPS ", \"hooks\": [{\"script\": \"/bin/true\"}]}", "hooks[0].pool: missing");
	expect("{" VIPS ", \"hooks\": [{\"pool\": \"smb\", \"script\": \"/bin/true\"}]}",
	       "hooks[0].pool: no client VIP is in pool \"smb\"");
	expect("{" VIPS ", \"hooks\": [{\"pool\": \"nfs\"}]}", "hooks[0].script: missing");
	expect("{" VIPS ", \"hooks\": [{\"pool\": \"nfs\", \"script\": \"true\"}]}",
	       "hooks[0].script");
	expect("{" VIPS ", \"hooks\": [{\"pool\": \"nfs\", \"script\": \"/nonexistent/hook\"}]}",
	       "hooks[0].script: /nonexistent/hook: No such file");
	{
		/* the config file itself: mkstemp made it 0600 */
		char json[512];

		snprintf(json, sizeof(json), "{" VIPS ", \"hooks\": [{\"pool\": \"nfs\", "
			 "\"script\": \"%s\"}]}", path);
		expect(json, "is not an executable file");
	}
	expect("{" VIPS ", \"hooks\": [{\"pool\": \"nfs\", \"script\": \"/bin\"}]}",
	       "is not an executable file");
	expect("{" VIPS ", \"hooks\": [{\"pool\": \"nfs\", \"script\": \"/bin/true\", "
	       "\"timeout_ms\": 5}]}", "hooks[0].timeout_ms");
	expect("{" VIPS ", \"hooks\": [{\"pool\": \"nfs\", \"script\": \"/bin/true\", "
	       "\"args\": [1]}]}", "hooks[0].args[0]");
	expect("{" VIPS ", \"hooks\": [{\"pool\": \"nfs\", \"script\": \"/bin/true\", "
	       "\"args\": [\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
	       "\"a\",\"a\"]}]}", "hooks[0].args: expected an array of at most 16");
	expect("{" VIPS ", \"hooks\": [{\"pool\": \"nfs\", \"script\": \"/bin/true\", "
	       "\"when\": \"always\"}]}", "hooks[0].when: unknown key");
	/* bricks have their own script */
	expect("{\"bricks\": {\"list\": [" BRICK "}]}, \"fence\": {\"mode\": \"none\"},"
	       " \"hooks\": [{\"pool\": \"bricks\", \"script\": \"/bin/true\"}]}",
	       "bricks have their own script");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_from_gluster),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_agent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
