'use strict';
// Runs one shipped business rule under the Glide shim, as ServiceNow runs an async rule: its condition first, then,
// if that holds, its script, both read from the files that ship.
// Usage: node run.js <run.json>, where run.json is {"script": path, "condition": "…", "properties": {…},
// "current": {"table", "fields", "changed", "references"}, "sleepScale": 0.01}. Prints the report as JSON:
// {"conditionMet", "logs": [{"level", "message"}], "requests": [{"method", "url", "headers", "body", "timeoutMs",
// "status", "responseBody", "error"}], "sleeps": [ms]}.

const fs = require('node:fs');
const vm = require('node:vm');
const { businessRuleGlobals } = require('./glide.js');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const report = { conditionMet: false, logs: [], requests: [], sleeps: [] };
const context = vm.createContext(businessRuleGlobals(config, report));
report.conditionMet = Boolean(vm.runInContext(config.condition, context, { filename: 'condition' }));
if (report.conditionMet) {
  vm.runInContext(fs.readFileSync(config.script, 'utf8'), context, { filename: config.script });
}
process.stdout.write(JSON.stringify(report));
