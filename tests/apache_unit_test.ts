/**
 * Runs mod_reqin_log's C unit tests (cmocka, built with AddressSanitizer and UBSan) as part
 * of `deno task test`: JSON escaping and truncation, SHA-256, JA4H, the event line, the
 * wire-order header recorder and the non-blocking socket sender.
 */
import { buildUnitTests } from "../apache-module/mod.ts";

/** Sums cmocka's "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)" lines. */
export function cmockaCounts(output: string): { passed: number; failed: number } {
  let passed = 0, failed = 0;
  for (const m of output.matchAll(/^\[ {2}(PASSED|FAILED) {2}\] (\d+) test\(s\)/gm)) {
    if (m[1] === "PASSED") passed += Number(m[2]);
    else failed += Number(m[2]);
  }
  return { passed, failed };
}

Deno.test("cmockaCounts reads cmocka's summary lines", () => {
  const out = "[  PASSED  ] 8 test(s).\n[  PASSED  ] 2 test(s).\n[  FAILED  ] 1 test(s), listed";
  const c = cmockaCounts(out);
  if (c.passed !== 10 || c.failed !== 1) throw new Error(`got ${JSON.stringify(c)}`);
});

for (const portable of [false, true]) {
  const scan = portable ? "plain-C JSON scan" : "the platform's JSON scan (SSE2 on x86-64)";
  Deno.test(`mod_reqin_log C unit tests (cmocka) pass, ${scan}`, async () => {
    const bin = await buildUnitTests({ portable });
    const out = await new Deno.Command(bin, { stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const { passed, failed } = cmockaCounts(text);
    if (!out.success || failed > 0 || passed === 0) {
      throw new Error(`cmocka: ${passed} passed, ${failed} failed, exit ${out.code}\n${text}`);
    }
    // The groups cover json, sha256, ja4h, event, wire, sender, batch and JSON properties: 38 tests today.
    if (passed < 38) throw new Error(`expected at least 38 cmocka tests, ran ${passed}\n${text}`);
  });
}
