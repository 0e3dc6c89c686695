/** apacheConfig: the generated httpd.conf for the option combinations tests use. */
import { match as assertMatch, ok as assert } from "node:assert/strict";
import { apacheConfig } from "./apache.ts";

const BASE = {
  dir: "/tmp/x",
  modules: "/usr/lib/apache2/modules",
  httpPort: 8080,
  httpsPort: 8443,
  cert: "/tmp/x/cert.pem",
  key: "/tmp/x/key.pem",
};

Deno.test("apacheConfig: module, socket, headers and TLS vhost on 127.0.0.1 only", () => {
  const conf = apacheConfig({
    ...BASE,
    modulePath: "/m/mod_reqin_log.so",
    asUser: "www-data",
    options: { socketPath: "/s/http.socket", mpm: "worker", headers: ["User-Agent", "Cookie"] },
  });
  assertMatch(
    conf,
    /^LoadModule mpm_worker_module \/usr\/lib\/apache2\/modules\/mod_mpm_worker\.so$/m,
  );
  assertMatch(conf, /^LoadModule reqin_log_module \/m\/mod_reqin_log\.so$/m);
  assertMatch(conf, /^ReqinLogEnabled On$/m);
  assertMatch(conf, /^ReqinLogSocket \/s\/http\.socket$/m);
  assertMatch(conf, /^ReqinLogHeaders User-Agent Cookie$/m);
  assertMatch(conf, /^LogLevel warn reqin_log:info$/m);
  assertMatch(conf, /^User www-data$/m);
  assertMatch(conf, /<VirtualHost 127\.0\.0\.1:8443>\n {2}SSLEngine on/);
  for (const l of conf.split("\n").filter((l) => l.startsWith("Listen "))) {
    assertMatch(l, /^Listen 127\.0\.0\.1:\d+$/);
  }
});

Deno.test("apacheConfig: without the module no directive names it", () => {
  const conf = apacheConfig({ ...BASE, options: { socketPath: "/s", loadModule: false } });
  assert(!/reqin/i.test(conf), conf);
  assert(!/^User /m.test(conf), "no User line when not running as root");
});

Deno.test("apacheConfig: PROXY protocol and remote IP header load mod_remoteip once", () => {
  const conf = apacheConfig({
    ...BASE,
    modulePath: "/m/mod_reqin_log.so",
    options: {
      socketPath: "/s",
      proxyProtocol: true,
      remoteIpHeader: "X-Forwarded-For",
      enabled: false,
    },
  });
  assertMatch(conf, /^RemoteIPProxyProtocol On$/m);
  assertMatch(conf, /^RemoteIPHeader X-Forwarded-For$/m);
  assertMatch(conf, /^ReqinLogEnabled Off$/m);
  assert(conf.split("LoadModule remoteip_module").length === 2);
});
