// The README must stay true: its configuration table matches the declared keys, and its
// first screen carries the two commands.
import { assert, assertEquals } from "../lib/testing.ts";
import { BEGIN, configReference, END, normalizeTable } from "../scripts/config_reference.ts";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

Deno.test("README's configuration reference matches every declared key", () => {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  assert(start >= 0 && end > start, "README.md lacks the config-reference markers");
  assertEquals(
    normalizeTable(readme.slice(start, end + END.length)),
    normalizeTable(configReference()),
    "README.md is out of date: run `deno run -A scripts/config_reference.ts --write`",
  );
});

Deno.test("README's first screen gives the run and test commands", () => {
  const firstScreen = readme.split("\n").slice(0, 30).join("\n");
  assert(firstScreen.includes("npm install && npx deno task start"));
  assert(firstScreen.includes("npm install && npx deno task test"));
});

Deno.test(".ci/run runs exactly the README's test command", async () => {
  const ci = await Deno.readTextFile(new URL("../.ci/run", import.meta.url));
  assert(ci.split("\n").includes("npm install && npx deno task test"));
});
