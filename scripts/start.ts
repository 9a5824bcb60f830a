// Quick start, first stage: the gateway and the simulator are not built yet (issues #3 and #4);
// until they are, `npm start` shows what the domain core ships.
import { channels, shippedRules, VERSION } from "../packages/core/src/index.ts";

console.log(`Sendgate core ${VERSION}`);
for (const channel of channels) {
  const count = shippedRules.filter((rule) => rule.channel === channel).length;
  console.log(`  ${channel}: ${count} shipped qualification rules`);
}
console.log("The gateway (REST API) and the simulator are not built yet: see README.md, Status.");
