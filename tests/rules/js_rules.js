/* Runs rules through the browser's evaluator in node: the vendored json-logic-js plus
 * platform/static/js/rules.js, loaded as the page loads them (classic scripts on `window`).
 *
 *   node tests/rules/js_rules.js CASES.json
 *
 * CASES.json: [{"rule", "data", "tables"?, "today"?}, ...]. Prints one JSON array, per case
 * {"value": result} or {"error": message}. Used by tests/rules/test_js_agreement.py. */
"use strict";

const fs = require("fs");
const path = require("path");
const vm = require("vm");

const STATIC = path.resolve(__dirname, "..", "..", "platform", "static");
const SCRIPTS = ["vendor/json-logic-js/logic.js", "js/rules.js"];

const sandbox = {console: console};
sandbox.window = sandbox;
vm.createContext(sandbox);
for (const script of SCRIPTS) {
  vm.runInContext(fs.readFileSync(path.join(STATIC, script), "utf8"), sandbox, {filename: script});
}
if (!sandbox.jsonLogic || !sandbox.Formflow || !sandbox.Formflow.rules) {
  throw new Error("logic.js or rules.js did not define window.jsonLogic / window.Formflow.rules");
}
sandbox.casesText = fs.readFileSync(process.argv[2], "utf8");

// Evaluated inside the page's realm, as a browser would.
const output = vm.runInContext(`
  (function () {
    var rules = Formflow.rules;
    rules.registerOperators(jsonLogic);
    return JSON.stringify(JSON.parse(casesText).map(function (item) {
      try {
        return {value: rules.evaluate(item.rule, item.data, {tables: item.tables, today: item.today})};
      } catch (error) {
        return {error: String(error && error.message || error)};
      }
    }));
  }())
`, sandbox);
process.stdout.write(output + "\n");
