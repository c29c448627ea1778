/* Formflow's rules in the browser: the spec's rules, run live on the case form.
 *
 * Two parts:
 * 1. Formflow.rules.registerOperators(jsonLogic): our operators (lookup, today,
 *    days_between, add_duration, date_before, date_after, money) added to json-logic-js
 *    with the semantics of platform/rules/operators.py, and Formflow.rules.evaluate(rule,
 *    data, {tables, today}) mirroring formflow.rules.evaluate. Plain ECMAScript 5, no DOM:
 *    tests/rules/js_rules.js loads this file in node and tests/rules/test_js_agreement.py
 *    checks that both sides agree on tests/rules/agreement_cases.json.
 * 2. The live form: reads the JSON island <script type="application/json"
 *    data-ff-live-rules> (templates/rules/_live.html), and on every input or change runs
 *    the rules in the server's order (platform/rules/form_rules.py: compute, visible,
 *    enable, required, validate) to preview computed values, show/hide fields, toggle
 *    required marks and read-only state and show validation messages. The server always
 *    re-evaluates on save; nothing here is trusted.
 *
 * A rule that fails (bad rule, bad data) is logged once and skipped; the page never breaks.
 */
(function (root) {
  "use strict";

  var Formflow = root.Formflow = root.Formflow || {};

  function fail(message) {
    var error = new Error(message);
    error.name = "OperatorFailure";
    throw error;
  }

  function repr(value) {
    try { return JSON.stringify(value); } catch (e) { return String(value); }
  }

  // --- money: half-up to 0.01 on the decimal the number was written as ----------------

  var NUMBER_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

  /* The amount in cents as {negative, cents: digit string}, rounded half away from zero
   * like Python's Decimal(repr(x)).quantize(Decimal("0.01"), ROUND_HALF_UP). Works on the
   * shortest decimal text of the number (String(x), like Python's repr), never on x * 100:
   * 1.005 * 100 is 100.49999999999999 in binary floating point. */
  function cents(value) {
    var text;
    if (typeof value === "number") {
      if (!isFinite(value)) { fail("not an amount: " + repr(value)); }
      text = String(value);
    } else if (typeof value === "string") {
      text = value.trim();
    } else {
      fail("not an amount: " + repr(value));
    }
    var match = NUMBER_TEXT.exec(text);
    if (!match || (match[2] === "" && !match[3])) { fail("not an amount: " + repr(value)); }
    var fraction = match[3] || "";
    var digits = (match[2] + fraction).replace(/^0+/, "") || "0";
    var exponent = parseInt(match[4] || "0", 10) - fraction.length;
    var kept;
    if (exponent >= -2) {
      kept = digits === "0" ? "0" : digits + new Array(exponent + 3).join("0");
    } else {
      var drop = -2 - exponent;
      if (digits.length <= drop) { digits = new Array(drop - digits.length + 2).join("0") + digits; }
      kept = digits.slice(0, digits.length - drop);
      if (digits.charAt(digits.length - drop) >= "5") { kept = increment(kept); }
      kept = kept.replace(/^0+/, "") || "0";
    }
    return {negative: match[1] === "-", cents: kept};
  }

  function increment(digits) {
    var out = digits.split(""), i = out.length - 1;
    while (i >= 0 && out[i] === "9") { out[i] = "0"; i -= 1; }
    if (i < 0) { out.unshift("1"); } else { out[i] = String(Number(out[i]) + 1); }
    return out.join("");
  }

  /* money(x) as a number: 1.005 -> 1.01, -1.005 -> -1.01, 0.1 + 0.2 -> 0.3. */
  function money(value) {
    var amount = cents(value);
    return Number((amount.negative ? "-" : "") + amount.cents + "e-2");
  }

  /* money(x) as the text an input shows: "1200.50" (no grouping; the server reads both). */
  function moneyText(value) {
    var amount = cents(value);
    var padded = amount.cents.length < 3 ? new Array(4 - amount.cents.length).join("0") + amount.cents : amount.cents;
    var sign = amount.negative && amount.cents !== "0" ? "-" : "";
    return sign + padded.slice(0, -2) + "." + padded.slice(-2);
  }

  // --- dates: whole days, proleptic Gregorian, no time zones ----------------------------

  function daysFromCivil(year, month, day) {
    // Howard Hinnant's days_from_civil: days since 1970-01-01.
    year -= month <= 2 ? 1 : 0;
    var era = Math.floor(year / 400);
    var yearOfEra = year - era * 400;
    var dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
    var dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
    return era * 146097 + dayOfEra - 719468;
  }

  function civilFromDays(days) {
    days += 719468;
    var era = Math.floor(days / 146097);
    var dayOfEra = days - era * 146097;
    var yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) -
      Math.floor(dayOfEra / 146096)) / 365);
    var dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
    var shifted = Math.floor((5 * dayOfYear + 2) / 153);
    var day = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
    var month = shifted + (shifted < 10 ? 3 : -9);
    return {year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day};
  }

  function daysInMonth(year, month) {
    return daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) -
      daysFromCivil(year, month, 1);
  }

  function pad(number, width) {
    var text = String(number);
    while (text.length < width) { text = "0" + text; }
    return text;
  }

  function dateText(days) {
    var civil = civilFromDays(days);
    if (civil.year < 1 || civil.year > 9999) { fail("date out of range"); }
    return pad(civil.year, 4) + "-" + pad(civil.month, 2) + "-" + pad(civil.day, 2);
  }

  /* A date string's first ten characters as YYYY-MM-DD (or YYYYMMDD, which Python's
   * date.fromisoformat also reads) -> days since the epoch. */
  function asDate(value) {
    var head = typeof value === "string" ? value.slice(0, 10) : null;
    var match = head && (/^(\d{4})-(\d{2})-(\d{2})$/.exec(head) || /^(\d{4})(\d{2})(\d{2})$/.exec(head));
    if (match) {
      var year = Number(match[1]), month = Number(match[2]), day = Number(match[3]);
      if (year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)) {
        return daysFromCivil(year, month, day);
      }
    }
    return fail("not a date (YYYY-MM-DD): " + repr(value));
  }

  /* Calendar months; the 31st plus one month is the last day of a shorter month. */
  function addMonths(days, months) {
    var civil = civilFromDays(days);
    var monthIndex = civil.month - 1 + months;
    var year = civil.year + Math.floor(monthIndex / 12);
    var month = monthIndex - Math.floor(monthIndex / 12) * 12 + 1;
    if (year < 1 || year > 9999) { fail("date out of range"); }
    return daysFromCivil(year, month, Math.min(civil.day, daysInMonth(year, month)));
  }

  var DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/;

  function localToday() {
    var now = new Date();
    return pad(now.getFullYear(), 4) + "-" + pad(now.getMonth() + 1, 2) + "-" + pad(now.getDate(), 2);
  }

  // --- the operators ----------------------------------------------------------------------

  /* What the operators read: the page's parameter tables and business date (set by evaluate). */
  var bound = {tables: {}, today: null};

  function columnNames(table) {
    return (table.columns || []).map(function (column) {
      return column !== null && typeof column === "object" ? column.name : column;
    });
  }

  /* A key as the text the server indexes rows by (engine.indexed): whole numbers without
   * ".0", so the number 3 and the text "3" find the same row; booleans as true/false. */
  function keyText(value) {
    if (typeof value === "number") {
      if (Math.floor(value) === value && isFinite(value)) {
        return Math.abs(value) < 1e21 || typeof BigInt === "undefined" ? String(value) : BigInt(value).toString();
      }
      return String(value);
    }
    if (typeof value === "boolean") { return value ? "true" : "false"; }
    return typeof value === "string" ? value : null;
  }

  /* lookup(table, key, column): the cell of the first row whose key column has that key;
   * null for no such row (and for a table or column that does not exist: `check` refuses
   * those when the spec is saved, as the server's inlined lookups do). */
  function lookup(tableName, key, column) {
    var tables = bound.tables || {};
    var table = typeof tableName === "string" && Object.prototype.hasOwnProperty.call(tables, tableName) ? tables[tableName] : null;
    var wanted = key === null || key === undefined ? null : keyText(key);
    if (!table || wanted === null) { return null; }
    var columns = columnNames(table);
    var keyIndex = columns.indexOf(table.keyColumn || columns[0]);
    var index = columns.indexOf(column);
    if (keyIndex < 0 || index < 0) { return null; }
    var rows = table.rows || [];
    for (var i = 0; i < rows.length; i += 1) {
      var row = rows[i];
      if (Array.isArray(row) && row.length === columns.length && row[keyIndex] !== null && keyText(row[keyIndex]) === wanted) {
        return row[index] === undefined ? null : row[index];
      }
    }
    return null;
  }

  var OPERATORS = {
    lookup: {min: 3, max: 3, run: lookup},
    today: {min: 0, max: 0, run: function () {
      return bound.today ? dateText(asDate(bound.today)) : localToday();
    }},
    days_between: {min: 2, max: 2, run: function (start, end) {
      return asDate(end) - asDate(start);
    }},
    add_duration: {min: 2, max: 2, run: function (start, duration) {
      var match = typeof duration === "string" && duration !== "P" ? DURATION.exec(duration) : null;
      if (!match) { fail("not an ISO 8601 duration of days/weeks/months/years: " + repr(duration)); }
      var parts = match.slice(1).map(function (part) { return parseInt(part || "0", 10); });
      var moved = addMonths(asDate(start), parts[0] * 12 + parts[1]);
      return dateText(moved + parts[2] * 7 + parts[3]);
    }},
    date_before: {min: 2, max: 2, run: function (first, second) { return asDate(first) < asDate(second); }},
    date_after: {min: 2, max: 2, run: function (first, second) { return asDate(first) > asDate(second); }},
    money: {min: 1, max: 1, run: money},
    money_text: {min: 1, max: 1, run: moneyText}
  };

  /* json-logic-js answers NaN or Infinity where the server's engine refuses ("did not
   * compute a number"): the same arithmetic, refusing non-finite results. */
  function finite(name, compute) {
    return function () {
      var result = compute.apply(this, arguments);
      if (typeof result === "number" && !isFinite(result)) {
        fail("the rule did not compute a number (in " + name + ")");
      }
      return result;
    };
  }

  var ARITHMETIC = {
    "+": function () {
      return Array.prototype.reduce.call(arguments, function (a, b) { return parseFloat(a, 10) + parseFloat(b, 10); }, 0);
    },
    "*": function () {
      return Array.prototype.reduce.call(arguments, function (a, b) { return parseFloat(a, 10) * parseFloat(b, 10); });
    },
    "-": function (a, b) { return b === undefined ? -a : a - b; },
    "/": function (a, b) { return a / b; },
    "%": function (a, b) { return a % b; },
    "min": function () { return Math.min.apply(null, arguments); },
    "max": function () { return Math.max.apply(null, arguments); }
  };

  function registerOperators(jsonLogic) {
    Object.keys(OPERATORS).forEach(function (name) {
      var entry = OPERATORS[name];
      jsonLogic.add_operation(name, function () {
        if (arguments.length < entry.min || arguments.length > entry.max) {
          fail(name + " takes " + entry.min + ".." + entry.max + " arguments");
        }
        return entry.run.apply(this, arguments);
      });
    });
    Object.keys(ARITHMETIC).forEach(function (name) {
      jsonLogic.add_operation(name, finite(name, ARITHMETIC[name]));
    });
    return jsonLogic;
  }

  /* formflow.rules.evaluate(rule, data, tables=, today=) in the browser. */
  function evaluate(rule, data, options) {
    var jsonLogic = (options && options.jsonLogic) || root.jsonLogic;
    var saved = bound;
    bound = {tables: (options && options.tables) || {}, today: (options && options.today) || null};
    try {
      var result = jsonLogic.apply(rule, data);
      return result === undefined ? null : result;
    } finally {
      bound = saved;
    }
  }

  function truthy(value) {
    if (Array.isArray(value)) { return value.length > 0; }
    return !!value;
  }

  // --- JSON Pointers ------------------------------------------------------------------------

  function splitPointer(pointer) {
    if (!pointer) { return []; }
    return pointer.slice(1).split("/").map(function (token) {
      return token.replace(/~1/g, "/").replace(/~0/g, "~");
    });
  }

  function joinPointer(pointer, tokens) {
    return pointer + tokens.map(function (token) {
      return "/" + String(token).replace(/~/g, "~0").replace(/\//g, "~1");
    }).join("");
  }

  function resolve(document, pointer) {
    var current = document;
    var tokens = splitPointer(pointer);
    for (var i = 0; i < tokens.length; i += 1) {
      if (current !== null && typeof current === "object" && !Array.isArray(current) &&
          Object.prototype.hasOwnProperty.call(current, tokens[i])) {
        current = current[tokens[i]];
      } else if (Array.isArray(current) && /^\d+$/.test(tokens[i]) && Number(tokens[i]) < current.length) {
        current = current[Number(tokens[i])];
      } else {
        return undefined;
      }
    }
    return current;
  }

  /* pointers.html_id: letters, digits, '-' and '_' only ("/a b" -> "ff-a_20_b"). */
  function htmlId(pointer) {
    var out = "ff";
    for (var i = 0; i < pointer.length; i += 1) {
      var code = pointer.codePointAt(i);
      var char = String.fromCodePoint(code);
      if (code > 0xffff) { i += 1; }
      if (/^[A-Za-z0-9]$/.test(char)) { out += char; } else if (char === "/") { out += "-"; } else { out += "_" + code.toString(16) + "_"; }
    }
    return out;
  }

  /* Concrete pointers of a rule's field: "/items/*\/x" -> one per row, with row and index. */
  function expand(template, data) {
    var tokens = splitPointer(template);
    var star = tokens.indexOf("*");
    if (star < 0) { return [{pointer: template, row: null, index: null}]; }
    var prefix = joinPointer("", tokens.slice(0, star));
    var rows = resolve(data, prefix);
    if (!Array.isArray(rows)) { return []; }
    var rest = tokens.slice(star + 1);
    var out = [];
    rows.forEach(function (row, index) {
      if (rest.indexOf("*") >= 0) {
        out = out.concat(expand(joinPointer(joinPointer(prefix, [index]), rest), data));
      } else {
        out.push({pointer: joinPointer(prefix, [index].concat(rest)), row: row, index: index});
      }
    });
    return out;
  }

  function put(data, pointer, value) {
    var tokens = splitPointer(pointer), current = data;
    for (var i = 0; i < tokens.length - 1; i += 1) {
      if (Array.isArray(current)) {
        current = current[Number(tokens[i])];
      } else {
        if (current[tokens[i]] === undefined || current[tokens[i]] === null || typeof current[tokens[i]] !== "object") {
          current[tokens[i]] = {};
        }
        current = current[tokens[i]];
      }
      if (current === undefined || current === null) { return; }
    }
    var last = tokens[tokens.length - 1];
    if (Array.isArray(current)) { current[Number(last)] = value; } else { current[last] = value; }
  }

  function drop(data, pointer) {
    var tokens = splitPointer(pointer);
    if (!tokens.length) { return; }
    var holder = resolve(data, joinPointer("", tokens.slice(0, -1)));
    if (holder !== null && typeof holder === "object" && !Array.isArray(holder)) { delete holder[tokens[tokens.length - 1]]; }
  }

  // --- a spec's rules over one form's data (form_rules.apply_rules, previewed) ---------------

  var KINDS = ["visible", "compute", "required", "enable", "validate"];

  /* The data paths a compute rule reads ("data.fee" -> ["fee"]). */
  function reads(expression, found) {
    found = found || [];
    if (Array.isArray(expression)) {
      expression.forEach(function (item) { reads(item, found); });
    } else if (expression !== null && typeof expression === "object") {
      Object.keys(expression).forEach(function (key) {
        var value = expression[key];
        var name = key === "var" ? (Array.isArray(value) ? value[0] : value) : null;
        if (typeof name === "string" && name.split(".")[0] === "data") {
          found.push(name.split(".").slice(1));
        } else {
          reads(value, found);
        }
      });
    }
    return found;
  }

  function dataPath(pointer) {
    return splitPointer(pointer).filter(function (token) { return token !== "*" && !/^\d+$/.test(token); });
  }

  function startsWith(path, prefix) {
    if (prefix.length > path.length) { return false; }
    for (var i = 0; i < prefix.length; i += 1) { if (path[i] !== prefix[i]) { return false; } }
    return true;
  }

  function computeOrder(rules) {
    var targets = rules.map(function (rule) { return dataPath(rule.field || ""); });
    var ordered = [], done = [], visiting = [];
    function visit(position) {
      if (done.indexOf(position) >= 0 || visiting.indexOf(position) >= 0) { return; }
      visiting.push(position);
      reads(rules[position].value).forEach(function (path) {
        targets.forEach(function (target, other) {
          if (other !== position && startsWith(path, target)) { visit(other); }
        });
      });
      visiting.splice(visiting.indexOf(position), 1);
      done.push(position);
      ordered.push(rules[position]);
    }
    rules.forEach(function (_rule, position) { visit(position); });
    return ordered;
  }

  function isHidden(hidden, pointer) {
    return hidden.some(function (item) { return pointer === item || pointer.indexOf(item + "/") === 0; });
  }

  /* Every rule of `rules` over `data` -> {hidden, disabled, required, computed, failed,
   * checked: {kind: [pointer...]}, messages: [{pointer, rule, ok}]}. `convert(pointer,
   * value)` turns a computed result into the field's type (money, whole numbers). */
  function run(rules, data, options) {
    options = options || {};
    var context = options.context || {};
    var convert = options.convert || function (_pointer, value) { return value; };
    var onError = options.onError || function () {};
    var outcome = {hidden: [], disabled: [], required: [], computed: {}, failed: [], checked: {}, validations: []};
    KINDS.forEach(function (kind) { outcome.checked[kind] = []; });
    var usable = (rules || []).filter(function (rule) {
      return rule && typeof rule === "object" && KINDS.indexOf(rule.kind) >= 0 && typeof rule.field === "string";
    });

    function each(kind, callback) {
      var chosen = usable.filter(function (rule) { return rule.kind === kind; });
      if (kind === "compute") { chosen = computeOrder(chosen); }
      chosen.forEach(function (rule) {
        var expression = kind === "compute" ? rule.value : rule.when;
        var places;
        try { places = expand(rule.field, data); } catch (error) { onError(rule, error); return; }
        places.forEach(function (place) {
          if (kind !== "visible" && isHidden(outcome.hidden, place.pointer)) { return; }
          var scope = {};
          Object.keys(context).forEach(function (key) { scope[key] = context[key]; });
          scope.data = data;
          if (place.row !== null) { scope.row = place.row; scope.index = place.index; }
          outcome.checked[kind].push(place.pointer);
          var result;
          try {
            result = evaluate(expression, scope, options);
          } catch (error) {
            outcome.failed.push({pointer: place.pointer, rule: rule.id, message: error.message});
            onError(rule, error);
            return;
          }
          callback(rule, place.pointer, result, scope);
        });
      });
    }

    each("compute", function (rule, pointer, result) {
      var value;
      try { value = convert(pointer, result); } catch (error) {
        outcome.failed.push({pointer: pointer, rule: rule.id, message: error.message});
        onError(rule, error);
        return;
      }
      outcome.computed[pointer] = value;
      if (value === null || value === undefined) { drop(data, pointer); } else { put(data, pointer, value); }
    });
    each("visible", function (_rule, pointer, result) {
      if (!truthy(result) && outcome.hidden.indexOf(pointer) < 0) { outcome.hidden.push(pointer); }
    });
    outcome.hidden.slice().sort(function (a, b) { return b.length - a.length; }).forEach(function (pointer) {
      drop(data, pointer);
    });
    each("enable", function (_rule, pointer, result) {
      if (!truthy(result)) { outcome.disabled.push(pointer); }
    });
    each("required", function (_rule, pointer, result) {
      if (truthy(result)) { outcome.required.push(pointer); }
    });
    each("validate", function (rule, pointer, result, scope) {
      var ok = truthy(result);
      outcome.validations.push({pointer: pointer, rule: rule, ok: ok, params: paramTexts(rule, scope, options)});
    });
    return outcome;
  }

  /* rule_messages.validate_message: the texts of a validate rule's params over the rule's
   * scope (an amount with two places and grouping, as the server writes them). */
  function paramTexts(rule, scope, options) {
    var texts = {};
    var params = rule.params && typeof rule.params === "object" ? rule.params : {};
    Object.keys(params).forEach(function (name) {
      var value = null;
      try { value = evaluate(params[name], scope, options); } catch (error) { value = null; }
      texts[name] = paramText(value, isMoneyParam(params[name], rule, options));
    });
    return texts;
  }

  function paramText(value, isMoney) {
    if (value === null || value === undefined || value === "") { return "\u2014"; }
    if (typeof value === "boolean") { return value ? "true" : "false"; }
    if (typeof value === "number") {
      if (!isMoney) { return String(value); }
      var plain = moneyText(value);
      var sign = plain.charAt(0) === "-" ? "-" : "";
      var parts = plain.replace("-", "").split(".");
      return sign + parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + parts[1];
    }
    if (Object.prototype.toString.call(value) === "[object Array]") {
      return value.map(function (item) { return paramText(item, false); }).join(", ");
    }
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  /* rule_messages.is_money: a money column of a table, a money field, or money(x). */
  function isMoneyParam(expression, rule, options) {
    if (!expression || typeof expression !== "object") { return false; }
    var keys = Object.keys(expression);
    if (keys.length !== 1) { return false; }
    var args = expression[keys[0]];
    if (keys[0] === "money") { return true; }
    if (keys[0] === "lookup" && Object.prototype.toString.call(args) === "[object Array]" && args.length === 3) {
      var table = (options.tables || {})[args[0]];
      return !!(table && table.types && table.types[args[2]] === "money");
    }
    if (keys[0] === "var" && options.isMoney) {
      var path = Object.prototype.toString.call(args) === "[object Array]" ? args[0] : args;
      if (typeof path !== "string") { return false; }
      var tokens = path.split(".");
      if (tokens[0] === "data") { return options.isMoney("/" + tokens.slice(1).join("/")); }
      if (tokens[0] === "row") {
        var field = (rule.field || "").split("/");
        var star = field.lastIndexOf("*");
        if (star < 0) { return false; }
        return options.isMoney(field.slice(0, star + 1).join("/") + "/" + tokens.slice(1).join("/"));
      }
    }
    return false;
  }

  /* "{name}" in a message: the param's text. */
  function fillMessage(text, params) {
    return String(text).replace(/\{([A-Za-z_][A-Za-z0-9_]{0,39})\}/g, function (whole, name) {
      return params && Object.prototype.hasOwnProperty.call(params, name) ? params[name] : whole;
    });
  }

  // --- the live form --------------------------------------------------------------------------

  var LOCKED_BY_DISABLING = ["select", "radio", "checkbox", "checkboxes", "range", "color", "file"];
  var NUMBER_INPUT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

  function isControl(element) {
    return !(element.tagName === "INPUT" && (element.type === "hidden" || element.type === "file"));
  }

  /* What a control's value is in the data: data-ff-type (number|integer|boolean|string)
   * when the page says, else guessed from the input. */
  function kindOf(element) {
    var hinted = element.getAttribute("data-ff-type");
    if (hinted) { return hinted; }
    if (element.type === "number" || element.type === "range") {
      return element.getAttribute("step") === "1" ? "integer" : "number";
    }
    var mode = element.getAttribute("inputmode");
    if (element.tagName === "INPUT" && (mode === "decimal" || mode === "numeric")) { return "number"; }
    return "string";
  }

  var ABSENT = {};

  function typed(text, kind) {
    if (kind === "number" || kind === "integer") {
      var cleaned = text.replace(/[,，\s]/g, "");
      if (!NUMBER_INPUT.test(cleaned)) { return ABSENT; }  // the server says "Enter a number."
      var number = Number(cleaned);
      if (kind === "integer" && Math.floor(number) !== number) { return ABSENT; }
      return number;
    }
    if (kind === "boolean") {
      var lowered = text.toLowerCase();
      if (["true", "1", "on", "yes"].indexOf(lowered) >= 0) { return true; }
      if (["false", "0", "off", "no"].indexOf(lowered) >= 0) { return false; }
      return ABSENT;
    }
    if (kind === "null") { return null; }
    return text;
  }

  function LiveForm(fields, live) {
    this.fields = fields;
    this.form = fields.closest("form") || fields;
    this.rules = live.rules || [];
    this.tables = live.tables || {};
    this.context = live.context || {};
    var context = this.context;
    // The business date: given by the page, else the browser's own date (the `now` of the
    // context is UTC, whose date is not the business date in the evening).
    this.today = live.today || context.today || null;
    this.language = (document.documentElement.getAttribute("lang") || "zh-CN");
    this.warned = {};
    this.staticRequired = {};
    this.staticLocked = {};
    this.showMessages = false;
  }

  LiveForm.prototype.controls = function (pointer) {
    return Array.prototype.filter.call(this.form.querySelectorAll("[name]"), function (element) {
      return element.name === pointer;
    });
  };

  /* The form's data as the server would parse it from these inputs (names are pointers). */
  LiveForm.prototype.data = function () {
    var groups = {}, order = [], arrays = {}, self = this;
    Array.prototype.forEach.call(this.form.querySelectorAll("input[name], select[name], textarea[name]"), function (element) {
      var name = element.name;
      if (name.indexOf("__rows:") === 0) { arrays[name.slice(7)] = Number(element.value) || 0; return; }
      if (name.charAt(0) !== "/") { return; }
      if (!groups[name]) { groups[name] = []; order.push(name); }
      groups[name].push(element);
    });
    var data = {};
    Object.keys(arrays).sort(function (a, b) { return a.length - b.length; }).forEach(function (pointer) {
      self.place(data, pointer, [], arrays);
    });
    order.forEach(function (name) {
      var value = self.read(groups[name]);
      if (value !== ABSENT) { self.place(data, name, value, arrays); }
    });
    // A row whose fields are all empty is still a row (row rules run on it): {} for a row
    // of fields, null for an empty item of a plain list.
    Object.keys(arrays).forEach(function (pointer) {
      var rows = resolve(data, pointer);
      if (!Array.isArray(rows)) { return; }
      for (var index = 0; index < arrays[pointer]; index += 1) {
        if (rows[index] !== undefined) { continue; }
        var prefix = joinPointer(pointer, [index]) + "/";
        rows[index] = order.some(function (name) { return name.indexOf(prefix) === 0; }) ? {} : null;
      }
    });
    return data;
  };

  LiveForm.prototype.read = function (elements) {
    var controls = elements.filter(isControl);
    if (!controls.length) {
      var hiddenInputs = elements.filter(function (element) { return element.type === "hidden" && !element.disabled; });
      return hiddenInputs.length && hiddenInputs[0].value !== "" ? typed(hiddenInputs[0].value, kindOf(hiddenInputs[0])) : ABSENT;
    }
    var first = controls[0];
    var kind = kindOf(first);
    var wrapper = first.closest(".ff-field");
    var many = (wrapper && wrapper.classList.contains("ff-checkboxes")) || (first.tagName === "SELECT" && first.multiple);
    if (many) {
      // data-ff-type is "array" here; data-ff-item-type (when the page gives it) types the items
      var itemKind = first.getAttribute("data-ff-item-type") || (kind === "array" ? "string" : kind);
      var chosen = [];
      controls.forEach(function (element) {
        if (element.tagName === "SELECT") {
          Array.prototype.forEach.call(element.selectedOptions, function (option) { chosen.push(option.value); });
        } else if (element.checked) {
          chosen.push(element.value);
        }
      });
      var items = chosen.map(function (token) { return typed(token, itemKind); }).filter(function (v) { return v !== ABSENT; });
      return items.length ? items : ABSENT;
    }
    if (first.type === "checkbox") { return first.checked; }
    if (first.type === "radio") {
      var checked = controls.filter(function (element) { return element.checked; })[0];
      return checked ? typed(checked.value, kind) : ABSENT;
    }
    var text = first.value;
    if (first.tagName !== "TEXTAREA" && first.type !== "password") { text = text.trim(); }
    return text === "" ? ABSENT : typed(text, kind);
  };

  LiveForm.prototype.place = function (data, pointer, value, arrays) {
    var tokens = splitPointer(pointer), current = data, path = "";
    for (var i = 0; i < tokens.length - 1; i += 1) {
      path = joinPointer(path, [tokens[i]]);
      var key = Array.isArray(current) ? Number(tokens[i]) : tokens[i];
      if (current[key] === undefined || current[key] === null || typeof current[key] !== "object") {
        current[key] = Object.prototype.hasOwnProperty.call(arrays, path) ? [] : {};
      }
      current = current[key];
    }
    var last = tokens[tokens.length - 1];
    current[Array.isArray(current) ? Number(last) : last] = value;
  };

  /* The element that shows a pointer's field (its .ff-field box, fieldset or row). */
  LiveForm.prototype.wrapper = function (pointer) {
    var id = htmlId(pointer);
    var found = document.getElementById(id + "-field");
    if (found) { return found; }
    found = document.getElementById(id);
    if (found && found.tagName === "FIELDSET") { return found; }
    if (found && found.closest(".ff-field")) { return found.closest(".ff-field"); }
    return document.getElementById(id + "-row");
  };

  LiveForm.prototype.isMoney = function (pointer) {
    var wrapper = this.wrapper(pointer);
    var control = this.controls(pointer).filter(isControl)[0];
    return !!((wrapper && wrapper.classList.contains("ff-money")) ||
      (control && (control.getAttribute("data-ff-money") || control.getAttribute("step") === "0.01")));
  };

  /* form_rules.convert: a computed result as the field's type (money rounded half-up,
   * integers whole, other numbers kept). */
  LiveForm.prototype.convert = function (pointer, value) {
    if (value === null || value === undefined) { return null; }
    var control = this.controls(pointer).filter(isControl)[0];
    var kind = control ? kindOf(control) : "string";
    if (kind === "integer") {
      var number = typeof value === "string" ? Number(value.trim()) : value;
      if (typeof number !== "number" || !isFinite(number) || (typeof value === "string" && !NUMBER_INPUT.test(value.trim()))) {
        fail("the result " + repr(value) + " is not a number");
      }
      if (Math.floor(number) !== number) { fail("the result " + repr(value) + " is not a whole number"); }
      return number;
    }
    if (kind === "number" || typeof value === "number") {
      if (this.isMoney(pointer)) { return money(value); }
      if (typeof value === "boolean") { fail("the result is not a number"); }
      return value;
    }
    if (kind === "string" && typeof value !== "string") { return typeof value === "object" ? JSON.stringify(value) : String(value); }
    return value;
  };

  LiveForm.prototype.warn = function (rule, error) {
    var key = (rule && rule.id) + ":" + error.message;
    if (this.warned[key]) { return; }
    this.warned[key] = true;
    if (root.console) { root.console.warn("Formflow rule " + (rule && rule.id) + " skipped: " + error.message); }
  };

  LiveForm.prototype.outcome = function () {
    var self = this;
    return run(this.rules, this.data(), {
      context: this.context,
      tables: this.tables,
      today: this.today,
      convert: function (pointer, value) { return self.convert(pointer, value); },
      isMoney: function (pointer) { return self.isMoney(pointer); },
      onError: function (rule, error) { self.warn(rule, error); }
    });
  };

  LiveForm.prototype.localized = function (text) {
    if (text === null || text === undefined) { return ""; }
    if (typeof text !== "object") { return String(text); }
    var candidates = [this.language, this.language.split("-")[0], "zh-CN"].concat(Object.keys(text));
    for (var i = 0; i < candidates.length; i += 1) {
      var value = text[candidates[i]];
      if (typeof value === "string" && value) { return value; }
    }
    return "";
  };

  /* Before the first change: what the server rendered as required or read-only without a
   * rule saying so (schema `required`, `readOnly`) stays that way whatever the rules say. */
  LiveForm.prototype.start = function () {
    var outcome = this.outcome(), self = this;
    outcome.checked.required.forEach(function (pointer) {
      var wrapper = self.wrapper(pointer);
      var marked = wrapper && wrapper.querySelector(".ff-required");
      if (marked && outcome.required.indexOf(pointer) < 0) { self.staticRequired[pointer] = true; }
    });
    outcome.checked.enable.forEach(function (pointer) {
      var locked = self.controls(pointer).filter(isControl).some(function (element) {
        return element.readOnly || element.disabled;
      });
      if (locked && outcome.disabled.indexOf(pointer) < 0) { self.staticLocked[pointer] = true; }
    });
    this.show(outcome);
  };

  LiveForm.prototype.refresh = function () {
    this.showMessages = true;
    this.show(this.outcome());
  };

  LiveForm.prototype.show = function (outcome) {
    var self = this;
    outcome.checked.visible.forEach(function (pointer) {
      self.setVisible(pointer, outcome.hidden.indexOf(pointer) < 0);
    });
    outcome.checked.enable.forEach(function (pointer) {
      self.setLocked(pointer, outcome.disabled.indexOf(pointer) >= 0 || !!self.staticLocked[pointer]);
    });
    outcome.checked.required.forEach(function (pointer) {
      self.setRequired(pointer, outcome.required.indexOf(pointer) >= 0 || !!self.staticRequired[pointer]);
    });
    Object.keys(outcome.computed).forEach(function (pointer) {
      self.setComputed(pointer, outcome.computed[pointer]);
    });
    var shown = {};
    outcome.validations.forEach(function (item) {
      var template = self.localized(item.rule.message) || item.rule.id;
      var message = fillMessage(template, item.params);
      var key = item.pointer + "\u0000" + message;
      if (!item.ok) { shown[key] = {pointer: item.pointer, rule: item.rule.id, message: message}; }
      self.clearServerMessage(item.pointer, template, item.ok);
    });
    this.setMessages(shown);
  };

  LiveForm.prototype.setVisible = function (pointer, visible) {
    var wrapper = this.wrapper(pointer);
    if (!wrapper) { return; }
    wrapper.hidden = !visible;
    if (visible) { wrapper.removeAttribute("data-ff-hidden"); } else { wrapper.setAttribute("data-ff-hidden", "1"); }
  };

  LiveForm.prototype.setLocked = function (pointer, locked) {
    var wrapper = this.wrapper(pointer);
    var elements = this.controls(pointer);
    var widget = wrapper ? (wrapper.className.match(/\bff-(\w+)\b/g) || []).map(function (c) { return c.slice(3); }) : [];
    var byDisabling = elements.some(function (element) {
      return element.tagName === "SELECT" || element.type === "radio" || element.type === "checkbox" ||
        element.type === "range" || element.type === "color";
    }) || widget.some(function (name) { return LOCKED_BY_DISABLING.indexOf(name) >= 0; });
    var isFile = widget.indexOf("file") >= 0;
    elements.forEach(function (element) {
      if (element.tagName === "INPUT" && element.type === "hidden") {
        // the server's copy of a locked value: posted only while the field is locked
        if (!isFile && byDisabling) { element.disabled = !locked; }
        return;
      }
      if (byDisabling || element.type === "file") { element.disabled = locked; } else { element.readOnly = locked; }
      if (locked) { element.setAttribute("aria-disabled", "true"); } else { element.removeAttribute("aria-disabled"); }
    });
  };

  LiveForm.prototype.setRequired = function (pointer, required) {
    var wrapper = this.wrapper(pointer);
    if (!wrapper) { return; }
    var controls = this.controls(pointer).filter(isControl);
    var isCheckbox = controls.length === 1 && controls[0].type === "checkbox" && !wrapper.classList.contains("ff-checkboxes");
    var marks = wrapper.querySelectorAll(".ff-required");
    var label = wrapper.querySelector("legend") || wrapper.querySelector("label");
    if (required && !marks.length && label && !isCheckbox) {
      var mark = document.createElement("span");
      mark.className = "ff-required ff-rule-required";
      mark.setAttribute("aria-hidden", "true");
      mark.textContent = "*";
      label.appendChild(mark);
    } else if (!required) {
      Array.prototype.forEach.call(marks, function (mark) { mark.parentNode.removeChild(mark); });
    }
    controls.forEach(function (element) {
      if (required && !isCheckbox) { element.setAttribute("aria-required", "true"); } else { element.removeAttribute("aria-required"); }
    });
  };

  LiveForm.prototype.setComputed = function (pointer, value) {
    var control = this.controls(pointer).filter(isControl)[0];
    if (!control || control === document.activeElement) { return; }  // never under the typing cursor
    if (control.type === "checkbox") { control.checked = value === true; return; }
    var text;
    if (value === null || value === undefined) {
      text = "";
    } else if (typeof value === "number" && this.isMoney(pointer)) {
      text = moneyText(value);
    } else if (typeof value === "boolean") {
      text = value ? "true" : "false";
    } else if (typeof value === "object") {
      text = JSON.stringify(value);
    } else {
      text = String(value);
    }
    if (control.value !== text) { control.value = text; }
    control.setAttribute("data-ff-computed", "1");
  };

  /* A message the server rendered for a rule that now passes is hidden (and shown again
   * when it fails again); a live message is not added twice. `template` is the message
   * before its {name}s were filled (the server filled them from the data it was sent). */
  LiveForm.prototype.clearServerMessage = function (pointer, template, ok) {
    var wrapper = this.wrapper(pointer);
    if (!wrapper) { return; }
    var pattern = new RegExp("^" + String(template).trim().replace(/[.*+?^$()|[\]\\{}]/g, "\\$&")
      .replace(/\\\{[A-Za-z_][A-Za-z0-9_]{0,39}\\\}/g, "[\\s\\S]*?") + "$");
    Array.prototype.forEach.call(wrapper.querySelectorAll(".ff-error:not(.ff-rule-error)"), function (element) {
      if (pattern.test(element.textContent.trim())) { element.hidden = ok; }
    });
  };

  LiveForm.prototype.setMessages = function (shown) {
    var self = this;
    Array.prototype.forEach.call(this.form.querySelectorAll(".ff-rule-error"), function (element) {
      var key = element.getAttribute("data-ff-pointer") + "\u0000" + element.textContent;
      if (shown[key] && self.showMessages) { delete shown[key]; } else { self.removeMessage(element); }
    });
    if (!this.showMessages) { return; }  // until the first change: what the server said stands
    Object.keys(shown).forEach(function (key) { self.addMessage(shown[key]); });
  };

  LiveForm.prototype.addMessage = function (item) {
    var pointer = item.pointer, wrapper = this.wrapper(pointer);
    while (!wrapper && pointer) { pointer = pointer.slice(0, pointer.lastIndexOf("/")); wrapper = this.wrapper(pointer); }
    if (!wrapper) { return; }
    var duplicate = Array.prototype.some.call(wrapper.querySelectorAll(".ff-error"), function (element) {
      return !element.hidden && element.textContent.trim() === item.message;
    });
    if (duplicate) { return; }
    var element = document.createElement("small");
    element.className = "ff-error ff-rule-error";
    element.id = htmlId(item.pointer) + "-rule-" + String(item.rule).replace(/[^A-Za-z0-9_-]/g, "_");
    element.setAttribute("role", "alert");
    element.setAttribute("data-ff-pointer", item.pointer);
    element.setAttribute("data-ff-rule", item.rule);
    element.textContent = item.message;
    wrapper.appendChild(element);
    this.controls(item.pointer).filter(isControl).forEach(function (control) {
      control.setAttribute("aria-invalid", "true");
      var described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (described.indexOf(element.id) < 0) { described.push(element.id); }
      control.setAttribute("aria-describedby", described.join(" "));
    });
  };

  LiveForm.prototype.removeMessage = function (element) {
    var pointer = element.getAttribute("data-ff-pointer"), id = element.id;
    var wrapper = element.parentNode;
    wrapper.removeChild(element);
    var stillWrong = Array.prototype.some.call(wrapper.querySelectorAll(".ff-error"), function (other) { return !other.hidden; });
    this.controls(pointer).filter(isControl).forEach(function (control) {
      var described = (control.getAttribute("aria-describedby") || "").split(" ").filter(function (item) { return item && item !== id; });
      if (described.length) { control.setAttribute("aria-describedby", described.join(" ")); } else { control.removeAttribute("aria-describedby"); }
      if (!stillWrong) { control.removeAttribute("aria-invalid"); }
    });
  };

  function startLive() {
    var island = document.querySelector("script[data-ff-live-rules]");
    var fields = document.querySelector("[data-ff-form]");
    if (!island || !fields || !root.jsonLogic) { return null; }
    var live;
    try { live = JSON.parse(island.textContent); } catch (error) {
      if (root.console) { root.console.warn("Formflow live rules unreadable: " + error.message); }
      return null;
    }
    registerOperators(root.jsonLogic);
    var form = new LiveForm(fields, live || {});
    try { form.start(); } catch (error) { form.warn({id: "(start)"}, error); }
    var update = function () {
      try { form.refresh(); } catch (error) { form.warn({id: "(refresh)"}, error); }
    };
    form.form.addEventListener("input", update);
    form.form.addEventListener("change", update);
    Formflow.liveForm = form;
    return form;
  }

  Formflow.rules = {
    registerOperators: registerOperators,
    evaluate: evaluate,
    run: run,
    truthy: truthy,
    money: money,
    moneyText: moneyText,
    htmlId: htmlId,
    expand: expand,
    start: startLive
  };

  if (root.jsonLogic) { registerOperators(root.jsonLogic); }

  if (typeof document !== "undefined" && document.addEventListener) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", startLive);
    } else {
      startLive();
    }
  }
}(typeof window !== "undefined" ? window : this));
