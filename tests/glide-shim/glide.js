'use strict';
// Stand-ins for the Glide APIs that servicenow/business-rule.js uses, each doing what ServiceNow's API reference
// says of it (global scope; the "Global" pages of https://www.servicenow.com/docs/r/api-reference/server-api-reference/).
// A business rule's script runs with these as its globals, exactly as shipped (see run.js).

const crypto = require('node:crypto');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

// GlideSystem (`gs`), c_GlideSystemAPI.html:
// - getProperty(key, alt): "the value of the system property, or the alternate value if the property is not found";
//   without an alternate, a missing property is null (the shim treats an absent key as not found).
// - info/warn/error(message): write the message to the system log at that level.
// - sleep(ms): pauses the script for that many milliseconds. The run's `sleepScale` shortens the real pause (tests
//   would otherwise wait out the backoff); the asked-for milliseconds are recorded as they are.
function glideSystem(config, report) {
  const properties = config.properties || {};
  const log = (level) => (message) => report.logs.push({ level, message: String(message) });
  return {
    getProperty(key, alt) {
      if (Object.prototype.hasOwnProperty.call(properties, key)) return properties[key];
      return alt === undefined ? null : alt;
    },
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    sleep(ms) {
      report.sleeps.push(ms);
      const real = Math.round(ms * (config.sleepScale === undefined ? 1 : config.sleepScale));
      if (real > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, real);
    },
  };
}

// GlideDateTime, c_GlideDateTimeAPI.html: `new GlideDateTime()` is the current date and time in UTC, and
// getNumericValue() "the number of milliseconds since January 1, 1970, 00:00:00 GMT".
class GlideDateTime {
  constructor() {
    this.ms = Date.now();
  }
  getNumericValue() {
    return this.ms;
  }
}

// GlideCertificateEncryption, c_GlideCertificateEncryptionAPI.html: generateMac(key, algorithm, data), where the key
// "must be Base64 encoded", the algorithm is HmacSHA256, HmacSHA1, HmacMD5 …, and the result is the "MAC in base64
// format". The shim takes the Java algorithm names the rule may use.
const MAC_ALGORITHMS = { HmacSHA256: 'sha256', HmacSHA1: 'sha1', HmacMD5: 'md5' };
class GlideCertificateEncryption {
  generateMac(base64Key, algorithm, data) {
    const digest = MAC_ALGORITHMS[algorithm];
    if (!digest) throw new Error('GlideCertificateEncryption.generateMac: unknown algorithm ' + algorithm);
    return crypto.createHmac(digest, Buffer.from(String(base64Key), 'base64')).update(String(data), 'utf8').digest('base64');
  }
}

// GlideStringUtil, c_GlideStringUtilAPI.html: base64Encode(source) is the base64 of the string's (UTF-8) bytes.
const GlideStringUtil = {
  base64Encode(source) {
    return Buffer.from(String(source), 'utf8').toString('base64');
  },
};

// sn_ws.RESTMessageV2 and RESTResponseV2, c_RESTMessageV2API.html and c_RESTResponseV2API.html: the setters build the
// request; execute() "sends the REST message to the endpoint" and returns the response, waiting for it (the script
// goes on only once it is back), within setHttpTimeout's milliseconds. Node has no synchronous HTTP, so each
// execute() runs one child Node process (http-request.js) and waits for it. A request that gets no HTTP answer
// (refused, timed out) throws, as a Java exception reaches a script.
class RESTResponseV2 {
  constructor(status, body) {
    this.status = status;
    this.body = body;
  }
  getStatusCode() {
    return this.status;
  }
  getBody() {
    return this.body;
  }
  haveError() {
    return this.status >= 400;
  }
}

function restMessage(report) {
  return class RESTMessageV2 {
    constructor() {
      this.request = { method: 'get', url: null, headers: {}, body: null, timeoutMs: 60000 };
    }
    setEndpoint(url) {
      this.request.url = String(url);
    }
    setHttpMethod(method) {
      this.request.method = String(method).toLowerCase();
    }
    setRequestHeader(name, value) {
      this.request.headers[String(name)] = String(value);
    }
    setRequestBody(body) {
      this.request.body = String(body);
    }
    setHttpTimeout(ms) {
      this.request.timeoutMs = Number(ms);
    }
    execute() {
      const sent = JSON.parse(JSON.stringify(this.request));
      report.requests.push(sent);
      const answer = JSON.parse(
        execFileSync(process.execPath, [path.join(__dirname, 'http-request.js')], {
          input: JSON.stringify(sent),
          encoding: 'utf8',
        }),
      );
      if (answer.error) {
        sent.error = answer.error;
        throw new Error('Request not sent: ' + answer.error);
      }
      sent.status = answer.status;
      sent.responseBody = answer.body;
      return new RESTResponseV2(answer.status, answer.body);
    }
  };
}

// `current` (and the records it references) as GlideRecord and GlideElement stand-ins, c_GlideRecordAPI.html and
// c_GlideElementAPI.html: each field is an element whose value is its string (toString); changes() tells whether
// the update changed it (in an async rule, as the update that queued the rule left it); getDisplayValue() of a
// record is its display field (`number` on task tables), of a reference the referenced record's. A reference field
// dot-walks to the referenced record's fields (`current.sysapproval.correlation_display`). Fields the record does
// not have are undefined, as on ServiceNow.
function glideRecord(spec) {
  const fields = spec.fields || {};
  const changed = new Set(spec.changed || []);
  const references = spec.references || {};
  const record = {
    getTableName: () => spec.table,
    getUniqueValue: () => fields.sys_id,
    getValue: (name) => (name in fields ? fields[name] : null),
    getDisplayValue: () => fields.number || fields.sys_id,
  };
  for (const name of Object.keys(fields)) {
    const referenced = references[name] ? glideRecord(references[name]) : null;
    const element = referenced ? Object.create(referenced) : {};
    element.toString = () => String(fields[name]);
    element.valueOf = () => String(fields[name]);
    element.changes = () => changed.has(name);
    element.getDisplayValue = () => (referenced ? referenced.getDisplayValue() : String(fields[name]));
    element.getRefRecord = () => referenced;
    record[name] = element;
  }
  return record;
}

// The globals a business rule runs with: the APIs above, `current` and `previous` (null in async rules).
function businessRuleGlobals(config, report) {
  return {
    gs: glideSystem(config, report),
    GlideDateTime,
    GlideCertificateEncryption,
    GlideStringUtil,
    sn_ws: { RESTMessageV2: restMessage(report) },
    current: glideRecord(config.current),
    previous: null,
  };
}

module.exports = { businessRuleGlobals };
