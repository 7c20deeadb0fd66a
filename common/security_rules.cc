// Security rule table. Patterns are RE2 (linear time, no backtracking), so
// a hostile 20 MB line costs a bounded scan, never a blow-up.
#include "common/security_rules.h"

namespace skillstore {
namespace {

using S = Severity;

constexpr SecurityPattern kSec001[] = {
    {S::kCritical, R"((?:curl|wget)\b[^|\n]*\|\s*(?:sudo\s+)?(?:ba|z|k)?sh\b)",
     "pipes a downloaded script straight into a shell"},
    {S::kHigh, R"(\beval\s+["'$`(])", "evaluates a constructed string as shell code"},
    {S::kHigh, R"(\b(?:bash|sh|zsh)\s+-c\s+["']?[^"'\n]*\$\{?\w)",
     "runs a shell string built from variables"},
    {S::kHigh, R"(\bos\.system\s*\(|\bsubprocess\.\w+\([^)\n]*shell\s*=\s*True)",
     "runs a shell command from Python with shell interpretation"},
    {S::kHigh, R"(\b(?:child_process\.)?exec(?:Sync)?\s*\(\s*[`'"][^`'"\n]*\$\{)",
     "runs a shell command built by string interpolation"},
    {S::kMedium, R"(\bInvoke-Expression\b|\biex\s*\()", "evaluates a string as PowerShell"},
};

constexpr SecurityPattern kSec002[] = {
    {S::kCritical, R"(\brm\s+-(?:[a-z]*r[a-z]*f|[a-z]*f[a-z]*r)[a-z]*\s+(?:--no-preserve-root\s+)?(?:/|~|\$HOME|/\*|\*)(?:\s|$|;))",
     "recursively force-deletes a root, home or wildcard path"},
    {S::kHigh, R"(\brm\s+-(?:[a-z]*r[a-z]*f|[a-z]*f[a-z]*r)[a-z]*\b)", "recursive forced delete"},
    {S::kHigh, R"(\bchmod\s+(?:-R\s+)?0?777\b)", "makes files writable by everyone"},
    {S::kCritical, R"(\bmkfs(?:\.\w+)?\s|\bdd\s+[^\n]*\bof=/dev/(?:sd|nvme|hd|disk))",
     "overwrites a disk or file system"},
    {S::kCritical, R"(:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:)", "fork bomb"},
    {S::kMedium, R"(\bfind\s+[^\n]*-delete\b|\bshred\s+-|\bRemove-Item\b[^\n]*-Recurse[^\n]*-Force)",
     "bulk file deletion"},
    {S::kMedium, R"(\bgit\s+(?:clean\s+-[a-z]*f|reset\s+--hard))", "discards local changes irrecoverably"},
};

constexpr SecurityPattern kSec003[] = {
    {S::kCritical, R"(-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY-----)", "embedded private key"},
    {S::kCritical, R"(\bAKIA[0-9A-Z]{16}\b)", "AWS access key id"},
    {S::kCritical, R"(\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,})", "GitHub token"},
    {S::kCritical, R"(\bxox[baprs]-[A-Za-z0-9-]{10,})", "Slack token"},
    {S::kCritical, R"(\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,})", "API secret key"},
    {S::kHigh, R"(\b(?:api[_-]?key|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token|password|passwd|pwd)\b["']?\s*[:=]\s*["'][^"'\s$<{]{8,}["'])",
     "hard-coded credential"},
    {S::kHigh, R"((?:~|\$HOME)/\.(?:ssh/id_[a-z0-9]+|aws/credentials|netrc|docker/config\.json|kube/config)\b)",
     "reads a credential file"},
    {S::kMedium, R"(\b(?:cat|less|more|type|Get-Content)\s+[^\n]*\.env\b)", "prints an environment secrets file"},
};

constexpr SecurityPattern kSec004[] = {
    {S::kCritical, R"(\b(?:nc|ncat|netcat)\b[^\n]*\s-[a-z]*e\s|/dev/tcp/\d)", "reverse shell"},
    {S::kHigh, R"(\bcurl\b[^\n]*(?:-d|--data(?:-binary)?|-F|--form|-T|--upload-file)\s+["']?@)",
     "uploads a local file to a remote server"},
    {S::kHigh, R"(\b(?:webhook\.site|requestbin|pipedream\.net|ngrok(?:-free)?\.(?:io|app)|pastebin\.com|transfer\.sh|interact\.sh|burpcollaborator)\b)",
     "known data-collection or tunnelling endpoint"},
    {S::kMedium, R"(\bhttps?://(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?/)", "URL with a raw IP address"},
    {S::kMedium, R"(\.onion\b)", "Tor hidden service"},
    {S::kLow, R"(\b(?:curl|wget)\b[^\n]*\s(?:-k|--insecure|--no-check-certificate)\b)",
     "download without TLS certificate checks"},
};

constexpr SecurityPattern kSec005[] = {
    {S::kCritical, R"(\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier|preceding|system|original)\s+(?:instructions|prompts?|rules|guidelines|directives))",
     "tells the model to drop its instructions"},
    {S::kHigh, R"(\b(?:reveal|print|show|output|repeat|leak)\s+(?:me\s+)?(?:your|the)\s+(?:system\s+prompt|hidden\s+instructions|initial\s+instructions))",
     "asks the model to disclose its instructions"},
    {S::kHigh, R"(\b(?:do\s+not|don't|never)\s+(?:tell|inform|mention\s+(?:this\s+)?to|notify|alert)\s+the\s+user)",
     "hides behaviour from the user"},
    {S::kHigh, R"(\b(?:without\s+(?:telling|informing|notifying)\s+the\s+user|secretly|covertly)\b)",
     "acts behind the user's back"},
    {S::kMedium, R"(\byou\s+are\s+now\s+(?:in\s+)?(?:DAN|developer\s+mode|jailbroken|unrestricted|an?\s+unfiltered)|\bjailbreak\b)",
     "jailbreak phrasing"},
    {S::kMedium, R"(<\|im_start\|>|<\|system\|>|\[/?INST\]|<<SYS>>)", "chat-template control tokens"},
};

constexpr SecurityPattern kSec006[] = {
    {S::kMedium, R"(\bsudo(?:\s+-[A-Za-z]+)*\s+[\w./-]+)", "runs a command as root"},
    {S::kHigh, R"(\bsudo\s+(?:su|-i|-s|bash|sh)\b|\bsu\s+-\s*(?:root)?(?:\s|$))", "opens a root shell"},
    {S::kHigh, R"(\bchmod\s+(?:[ugoa]*\+s|[4267][0-7]{3})\b)", "sets setuid/setgid bits"},
    {S::kCritical, R"(/etc/sudoers|NOPASSWD)", "changes sudo rights"},
    {S::kHigh, R"(--privileged\b|--cap-add[= ](?:ALL|SYS_ADMIN)|\bdocker\s+run\b[^\n]*-v\s+/:/)",
     "container with host privileges"},
    {S::kHigh, R"(\bSet-ExecutionPolicy\s+(?:-ExecutionPolicy\s+)?(?:Bypass|Unrestricted)\b|-ExecutionPolicy\s+Bypass)",
     "turns off PowerShell script policy"},
    {S::kMedium, R"(\bchown\s+(?:-R\s+)?root\b|\brunas\s+/user:administrator)", "acts as the administrator"},
};

constexpr SecurityPattern kSec007[] = {
    {S::kHigh, R"(!\[[^\]]*\]\(\s*https?://[^)\s]*\?[^)\s]*(?:=\s*)?(?:\{\{?|\$\{?|%7B|<)[^)]*\))",
     "image URL with a templated query: loading it sends data out"},
    {S::kHigh,
     R"(!\[[^\]]*\]\(\s*https?://[^)\s]*[?&](?:data|q|secret|token|key|payload|content|info|d)=[^)]*\))",
     "image URL that carries data in its query"},
    {S::kMedium, R"(<img\b[^>]*\bsrc\s*=\s*["']?https?://[^"'\s>]*\?[^"'\s>]*(?:\{|\$|%7B))",
     "HTML image with a templated query"},
    // The URL of `![x][ref]` stands on a line of its own, `[ref]: URL`.
    {S::kHigh, R"(^ {0,3}\[[^\]]+\]:\s*<?https?://[^\s>]*\?[^\s>]*(?:\{\{?|\$\{?|%7B|<))",
     "link definition with a templated query: an image that uses it sends data out"},
    {S::kMedium,
     R"(^ {0,3}\[[^\]]+\]:\s*<?https?://[^\s>]*[?&](?:data|secret|token|payload|exfil)=)",
     "link definition whose URL carries data in its query"},
};

constexpr SecurityPattern kSec008[] = {
    {S::kMedium, R"(\.(?:inner|outer)HTML\s*\+?=)", "assigns HTML from a string (XSS)"},
    {S::kMedium, R"(\bdocument\.write(?:ln)?\s*\()", "document.write"},
    {S::kMedium, R"(\bdangerouslySetInnerHTML\b|\bv-html\s*=|\[innerHTML\]\s*=|\{@html\s)",
     "renders raw HTML in a framework"},
    {S::kHigh, R"(\beval\s*\(|\bnew\s+Function\s*\()", "evaluates strings as JavaScript"},
    {S::kMedium, R"(\bset(?:Timeout|Interval)\s*\(\s*["'`])", "timer with a code string"},
    {S::kLow, R"(\bhref\s*=\s*["']javascript:)", "javascript: URL"},
    {S::kMedium, R"(\bbypassSecurityTrust(?:Html|Script|Url|ResourceUrl)\b)", "disables Angular sanitising"},
};

constexpr SecurityPattern kSec009[] = {
    {S::kHigh, R"(\b(?:disable|turn\s+off|bypass|skip)\s+(?:the\s+|all\s+)?(?:security|ssl|tls|certificate|cert|signature|antivirus|firewall|authentication|auth|sandbox|csrf)\s*(?:checks?|verification|validation|protection)?)",
     "tells the agent to switch off a protection"},
    {S::kHigh, R"(--dangerously-skip-permissions|--no-sandbox\b|verify\s*=\s*False\b|NODE_TLS_REJECT_UNAUTHORIZED\s*=\s*["']?0|StrictHostKeyChecking\s*=?\s*no|rejectUnauthorized\s*:\s*false)",
     "turns off a safety check"},
    // Claude Code's permission mode, Codex's sandbox, approval policy and flag.
    {S::kHigh, R"(\bbypassPermissions\b|\bdanger-full-access\b|--dangerously-bypass-approvals-and-sandbox\b|\bapproval[-_]policy["']?\s*[:=]\s*["']?never\b)",
     "runs an agent with its permission checks off"},
    {S::kMedium, R"(\b(?:without|no\s+need\s+to)\s+(?:asking|ask|confirmation|confirming|approval|review|permission)\b)",
     "acts without the user's confirmation"},
    {S::kMedium, R"(\bgit\s+push\b[^\n]*(?:--force\b|\s-f\b)|--no-verify\b)", "forces past repository safeguards"},
    {S::kLow, R"(\b(?:auto[- ]?approve|yolo\s+mode|--yes\s+--force|-y\s+--force)\b)",
     "approves actions automatically"},
};

// Characters that make a line read differently to a person than to a model
// or a shell: bidi controls reorder what is displayed ("Trojan Source"),
// tag characters carry text no one sees, zero-width characters split a word
// so that a reader or a filter misses it ("cu<ZWSP>rl"). The zero-width
// joiner and non-joiner are left alone: emoji sequences and several scripts
// need them. A byte order mark counts only after other text on its line.
constexpr SecurityPattern kSec010[] = {
    {S::kHigh, R"([\x{202A}-\x{202E}\x{2066}-\x{2069}])",
     "bidirectional control character: the line displays in another order than it is read"},
    {S::kHigh, R"([\x{E0000}-\x{E007F}])",
     "Unicode tag characters: text invisible on screen that a model still reads"},
    {S::kMedium, R"([\x{200B}\x{2060}\x{180E}]|.\x{FEFF})",
     "invisible character inside text, which can hide a word from a reader or a filter"},
    // Cyrillic letters that look Latin (с, о, е, р, а ...) inside a Latin
    // word show a person "curl" and a filter another word. Whole Cyrillic
    // words, and compounds joined by a hyphen, are ordinary text.
    {S::kMedium, R"([a-z][\x{0400}-\x{04FF}]|[\x{0400}-\x{04FF}][a-z])",
     "a word mixes Latin and Cyrillic letters that look alike, which hides it from a filter"},
    // Full-width Latin letters (ｃｕｒｌ) read as their ASCII word to a model
    // and to a person, not to a pattern. Two letters (ＰＣ) are common in
    // Japanese text; three or more are flagged.
    {S::kLow, R"([\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}]{3,})",
     "full-width Latin letters, which spell a word that patterns on ASCII do not see"},
};

constexpr SecurityRule kRules[] = {
    {"SEC001", "shell_command_injection", kSec001},
    {"SEC002", "dangerous_file_operation", kSec002},
    {"SEC003", "credential_exposure", kSec003},
    {"SEC004", "suspicious_network_operation", kSec004},
    {"SEC005", "prompt_injection", kSec005},
    {"SEC006", "privilege_escalation", kSec006},
    {"SEC007", "markdown_image_exfiltration", kSec007},
    {"SEC008", "unsafe_web_code", kSec008},
    {"SEC009", "unsafe_instruction", kSec009},
    {"SEC010", "hidden_unicode", kSec010},
};

}  // namespace

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "info";
}

Severity Lower(Severity s) {
  return s == Severity::kInfo ? s : static_cast<Severity>(static_cast<int>(s) - 1);
}

absl::Span<const SecurityRule> SecurityRules() { return kRules; }

}  // namespace skillstore
