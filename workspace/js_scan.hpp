// A rough JavaScript tokenizer for the validators: enough to find which
// global functions a script defines and which functions an inline handler
// calls, skipping strings, comments, template literals and regex literals.
// Not a parser; errs on the side of "defined".
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace codehive::ws::js {

/// True when the source has top-level `import ... from`/`import "x"` or
/// `export ...` statements (so it must be checked as an ES module).
bool uses_module_syntax(std::string_view src);

/// Adds the names a script defines that an inline handler can call.
/// Classic scripts: `function f(`, `async function f(`, `class F`,
/// `var/let/const f =`, `f = function`/arrow, `window.f =`. Class methods and
/// object members do not count. Module scripts (`module` true) define no
/// globals except through `window.f =`, `globalThis.f =`, `self.f =` and
/// `Object.assign(window, {f, g})`.
void collect_definitions(std::string_view src, bool module, std::set<std::string>& out);

/// Names called directly (not as members) by an inline handler body such as
/// `save(); return false` -> {"save"}; keywords are excluded.
std::vector<std::string> called_functions(std::string_view handler);

/// Browser globals and builtins a handler may call without defining them.
bool is_known_global(std::string_view name);

}  // namespace codehive::ws::js
