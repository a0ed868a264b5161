// The consumer page of the Digital Link resolver: HTML rendered from the
// resolver's JSON document (resolver_service.h), so the page and the API
// can never disagree. Pure functions of their inputs: no ledger, no clock.
//
// The page is self-contained — inline CSS, inline SVG icons, a few lines of
// inline JavaScript for the PIN and complaint forms — so it works on an
// isolated network; without JavaScript the PIN form still posts (and
// /v1/pin answers a page), the complaint form stays hidden. It is
// mobile-first (readable at 320 px) and small (tests assert < 100 KB).
// Every ledger string is escaped (HtmlEscape) before it reaches the page.
//
// Content negotiation and language choice live here too: PrefersHtml reads
// Accept, ChooseLang reads ?lang= and Accept-Language.
#ifndef TRACELEDGER_API_RESOLVER_PAGE_H_
#define TRACELEDGER_API_RESOLVER_PAGE_H_

#include <optional>
#include <string>
#include <string_view>

#include "api/http.h"
#include "ledger/canonical_json.h"

namespace traceledger::api {

enum class Lang { kEn, kZh };

// "en" or "zh-CN".
std::string_view LangTag(Lang lang);

// ?lang= (en, zh, zh-CN, case-insensitive) wins; else the Accept-Language
// entry with the highest q among zh* and en*; else English.
Lang ChooseLang(const std::optional<std::string>& lang_param, std::string_view accept_language);

// PrefersHtml and HtmlEscape (api/http.h) decide and escape for the page.

struct PageContext {
  Lang lang = Lang::kEn;
  // The request's path and query without any lang= parameter (still
  // percent-encoded); the language switch links append lang= to it.
  std::string self;
};

// The consumer page for a resolver document (the JSON answer of a code
// that parsed: genuine, warning or not genuine, 404 documents included).
std::string RenderCodePage(const ledger::Json& doc, const PageContext& ctx);

// A small page for a link that is not a code (400) or a failure (503):
// "not genuine" for 400, since an unreadable code proves nothing.
std::string RenderErrorPage(int status, std::string_view code, std::string_view message, const PageContext& ctx);

// The answer to the PIN form posted without JavaScript: the outcome
// ("consumed", "already_consumed", "wrong", or an error code) in words,
// and a link back to the code's page (`back`, a path).
std::string RenderPinPage(std::string_view outcome, std::string_view detail, std::string_view back,
                          const PageContext& ctx);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_RESOLVER_PAGE_H_
