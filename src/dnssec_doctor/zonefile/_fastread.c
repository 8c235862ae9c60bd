/* The zone reader's accelerator: the records signers write, parsed in C.
 *
 * ``zonefile.reader`` is the reference: it reads every zone file. On a signed zone of
 * half a million records its Python loop costs ~15 us a record, more than verifying an
 * RSA signature. This module parses the common case -- the record syntax and the types
 * that signers emit -- to exactly the tuples the Python reader yields, and stops at the
 * first record it does not fully understand (a directive, an escape, an unknown type,
 * anything that would be an error), leaving that one to the Python reader. It never
 * reports errors itself: whatever it is unsure of goes the slow way, so messages and
 * edge-case semantics have one implementation. tests/test_zonefile_fast.py checks both
 * paths agree record for record on real and mutated zones.
 *
 * Bounds: every read is checked against the buffer's end; tokens, rdata and names have
 * fixed limits, and going past one means "the slow way", never a longer write.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_packed.h"
#include "_typebitmap.h"

#define MAX_TOKENS 512
#define MAX_RDATA 65535
#define MAX_NAME 255
#define MAX_TYPES 512
/* zonefile.reader.MAX_RECORD_TEXT: a longer line or record is the reader's error */
#define MAX_RECORD_TEXT (1 << 20)

enum status { PARSED = 0, SLOW = 1 };

typedef struct {
    const unsigned char *start;
    Py_ssize_t length;
    int quoted; /* "..." with the quotes stripped */
} Token;

/* Mnemonics as dnspython spells them (the test compares); meta-types are left out. The
 * second column says whether this module parses that type's RDATA. */
typedef struct {
    const char *name;
    int value;
    int parsed;
} TypeName;

static const TypeName TYPES[] = {
    {"A", 1, 1}, {"NS", 2, 1}, {"MD", 3, 0}, {"MF", 4, 0}, {"CNAME", 5, 1}, {"SOA", 6, 1},
    {"MB", 7, 0}, {"MG", 8, 0}, {"MR", 9, 0}, {"NULL", 10, 0}, {"WKS", 11, 0}, {"PTR", 12, 1},
    {"HINFO", 13, 0}, {"MINFO", 14, 0}, {"MX", 15, 1}, {"TXT", 16, 1}, {"RP", 17, 0},
    {"AFSDB", 18, 0}, {"X25", 19, 0}, {"ISDN", 20, 0}, {"RT", 21, 0}, {"NSAP", 22, 0},
    {"NSAP-PTR", 23, 0}, {"SIG", 24, 0}, {"KEY", 25, 0}, {"PX", 26, 0}, {"GPOS", 27, 0},
    {"AAAA", 28, 1}, {"LOC", 29, 0}, {"NXT", 30, 0}, {"SRV", 33, 0}, {"NAPTR", 35, 0},
    {"KX", 36, 0}, {"CERT", 37, 0}, {"A6", 38, 0}, {"DNAME", 39, 1}, {"APL", 42, 0},
    {"DS", 43, 1}, {"SSHFP", 44, 0}, {"IPSECKEY", 45, 0}, {"RRSIG", 46, 1}, {"NSEC", 47, 1},
    {"DNSKEY", 48, 1}, {"DHCID", 49, 0}, {"NSEC3", 50, 1}, {"NSEC3PARAM", 51, 1},
    {"TLSA", 52, 0}, {"SMIMEA", 53, 0}, {"HIP", 55, 0}, {"NINFO", 56, 0}, {"CDS", 59, 1},
    {"CDNSKEY", 60, 1}, {"OPENPGPKEY", 61, 0}, {"CSYNC", 62, 0}, {"ZONEMD", 63, 0},
    {"SVCB", 64, 0}, {"HTTPS", 65, 0}, {"SPF", 99, 0}, {"URI", 256, 0}, {"CAA", 257, 0},
    {NULL, 0, 0},
};

enum {
    T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_PTR = 12, T_MX = 15, T_TXT = 16,
    T_AAAA = 28, T_DNAME = 39, T_DS = 43, T_RRSIG = 46, T_NSEC = 47, T_DNSKEY = 48,
    T_NSEC3 = 50, T_NSEC3PARAM = 51, T_CDS = 59, T_CDNSKEY = 60,
};

/* Type lookup: an open-addressing table over the uppercase mnemonic, filled at import. */
#define TYPE_SLOTS 256
static const TypeName *type_table[TYPE_SLOTS];

static unsigned type_hash(const char *upper, Py_ssize_t length) {
    unsigned h = 2166136261u;
    for (Py_ssize_t i = 0; i < length; i++) h = (h ^ (unsigned char)upper[i]) * 16777619u;
    return h;
}

static void fill_type_table(void) {
    for (const TypeName *t = TYPES; t->name; t++) {
        unsigned slot = type_hash(t->name, (Py_ssize_t)strlen(t->name)) % TYPE_SLOTS;
        while (type_table[slot]) slot = (slot + 1) % TYPE_SLOTS;
        type_table[slot] = t;
    }
}

/* The type a token names (case-insensitive), or NULL. */
static const TypeName *lookup_type(const Token *token) {
    char upper[16];
    if (token->quoted || token->length <= 0 || token->length >= (Py_ssize_t)sizeof upper)
        return NULL;
    for (Py_ssize_t i = 0; i < token->length; i++) {
        unsigned char c = token->start[i];
        upper[i] = (char)((c >= 'a' && c <= 'z') ? c - 32 : c);
    }
    upper[token->length] = 0;
    unsigned slot = type_hash(upper, token->length) % TYPE_SLOTS;
    while (type_table[slot]) {
        if (strcmp(type_table[slot]->name, upper) == 0) return type_table[slot];
        slot = (slot + 1) % TYPE_SLOTS;
    }
    return NULL;
}

/* --- numbers, encodings -------------------------------------------------------------- */

static int all_digits(const Token *token) {
    if (token->quoted || token->length <= 0) return 0;
    for (Py_ssize_t i = 0; i < token->length; i++)
        if (token->start[i] < '0' || token->start[i] > '9') return 0;
    return 1;
}

/* An unsigned decimal of at most ``bits`` bits, as the reader's ``_u``: digits only. */
static int parse_unsigned(const Token *token, int bits, uint64_t *value) {
    if (!all_digits(token)) return SLOW;
    uint64_t v = 0;
    for (Py_ssize_t i = 0; i < token->length; i++) {
        v = v * 10 + (uint64_t)(token->start[i] - '0');
        if (v >> bits) return SLOW;
    }
    *value = v;
    return PARSED;
}

static int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

typedef struct {
    unsigned char data[MAX_RDATA + 1];
    Py_ssize_t length;
} Buffer;

static int put(Buffer *out, const void *data, Py_ssize_t length) {
    if (length < 0 || out->length + length > MAX_RDATA) return SLOW;
    memcpy(out->data + out->length, data, (size_t)length);
    out->length += length;
    return PARSED;
}

static int put_u8(Buffer *out, uint64_t v) {
    unsigned char b = (unsigned char)v;
    return put(out, &b, 1);
}

static int put_u16(Buffer *out, uint64_t v) {
    unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    return put(out, b, 2);
}

static int put_u32(Buffer *out, uint64_t v) {
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    return put(out, b, 4);
}

/* Hex over the concatenation of tokens (bytes.fromhex of the joined text): pairs only. */
static int put_hex(Buffer *out, const Token *tokens, int count) {
    int pending = -1;
    for (int t = 0; t < count; t++) {
        if (tokens[t].quoted) return SLOW;
        for (Py_ssize_t i = 0; i < tokens[t].length; i++) {
            int v = hex_value(tokens[t].start[i]);
            if (v < 0) return SLOW;
            if (pending < 0) {
                pending = v;
            } else {
                if (put_u8(out, (uint64_t)(pending << 4 | v))) return SLOW;
                pending = -1;
            }
        }
    }
    return pending < 0 ? PARSED : SLOW;
}

static signed char b64_table[256]; /* -1: not in the alphabet; filled at import */

static void fill_b64_table(void) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(b64_table, -1, sizeof b64_table);
    for (int i = 0; i < 64; i++) b64_table[(unsigned char)alphabet[i]] = (signed char)i;
}

/* Base64 over the concatenation of tokens, in the canonical form only (length a multiple
 * of four, at most two '=' at the very end): there ``base64.b64decode(validate=True)``
 * gives exactly this; anything else is left to it. */
static int put_base64(Buffer *out, const Token *tokens, int count) {
    uint32_t accumulator = 0;
    int bits = 0, padding = 0;
    Py_ssize_t chars = 0;
    for (int t = 0; t < count; t++) {
        const unsigned char *s = tokens[t].start;
        Py_ssize_t n = tokens[t].length;
        if (tokens[t].quoted) return SLOW;
        /* at most 3 octets for every 4 characters, plus the bits carried in */
        if (out->length + (n * 3) / 4 + 2 > MAX_RDATA) return SLOW;
        unsigned char *w = out->data + out->length;
        Py_ssize_t i = 0;
        if (bits == 0 && !padding) { /* whole quads first: four characters, three octets */
            for (; i + 4 <= n; i += 4) {
                int a = b64_table[s[i]], b = b64_table[s[i + 1]], c = b64_table[s[i + 2]],
                    d = b64_table[s[i + 3]];
                if ((a | b | c | d) < 0) break; /* padding or worse: one at a time */
                uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 |
                             (uint32_t)d;
                w[0] = (unsigned char)(v >> 16);
                w[1] = (unsigned char)(v >> 8);
                w[2] = (unsigned char)v;
                w += 3;
            }
        }
        for (; i < n; i++) {
            unsigned char c = s[i];
            int v = b64_table[c];
            if (v < 0) {
                if (c != '=') return SLOW;
                padding++;
                continue;
            }
            if (padding) return SLOW; /* data after padding */
            accumulator = (accumulator << 6) | (uint32_t)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                *w++ = (unsigned char)(accumulator >> bits);
            }
        }
        chars += n;
        out->length = w - out->data;
    }
    if (chars % 4 || padding > 2) return SLOW;
    return PARSED;
}

/* base32hex (RFC 4648 §7) of one token, upper or lower case, without padding. */
static int put_base32hex(Buffer *out, const Token *token) {
    if (token->quoted || token->length % 8) return SLOW;
    uint64_t accumulator = 0;
    int bits = 0;
    Py_ssize_t before = out->length;
    for (Py_ssize_t i = 0; i < token->length; i++) {
        unsigned char c = token->start[i];
        int v;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'A' && c <= 'V') v = c - 'A' + 10;
        else if (c >= 'a' && c <= 'v') v = c - 'a' + 10;
        else return SLOW;
        accumulator = (accumulator << 5) | (uint64_t)v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (put_u8(out, (accumulator >> bits) & 0xFF)) return SLOW;
        }
    }
    return out->length - before <= 255 ? PARSED : SLOW;
}

/* calendar.timegm of YYYYMMDDHHmmSS, with the reader's checks; or seconds. */
static int parse_time(const Token *token, uint64_t *value) {
    if (!all_digits(token)) return SLOW;
    if (token->length != 14) return parse_unsigned(token, 32, value);
    int f[6];
    static const int widths[6] = {4, 2, 2, 2, 2, 2};
    const unsigned char *p = token->start;
    for (int i = 0; i < 6; i++) {
        f[i] = 0;
        for (int j = 0; j < widths[i]; j++) f[i] = f[i] * 10 + (*p++ - '0');
    }
    if (f[0] < 1 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] >= 24) return SLOW;
    /* days from 1970-01-01 to YYYY-MM-01 (proleptic Gregorian), then the day of month */
    int64_t y = f[0] - (f[1] <= 2);
    int64_t era = y / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (f[1] + (f[1] > 2 ? -3 : 9)) + 2) / 5;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468 + f[2] - 1;
    int64_t seconds = days * 86400 + f[3] * 3600 + f[4] * 60 + f[5];
    *value = (uint64_t)(uint32_t)seconds;
    return PARSED;
}

/* --- names --------------------------------------------------------------------------- */

typedef struct {
    const unsigned char *wire;
    Py_ssize_t length; /* 0: no origin known */
} Origin;

/* The reader's ``name_wire``: lowercase wire form, relative names under the origin. */
static int put_name(Buffer *out, const Token *token, const Origin *origin) {
    const unsigned char *s = token->start;
    Py_ssize_t n = token->length;
    if (token->quoted || n <= 0) return SLOW;
    unsigned char wire[MAX_NAME + 64];
    Py_ssize_t length = 0;
    if (n == 1 && s[0] == '@') {
        if (!origin->length) return SLOW;
        return put(out, origin->wire, origin->length);
    }
    if (n == 1 && s[0] == '.') return put_u8(out, 0);
    int absolute = s[n - 1] == '.';
    Py_ssize_t end = absolute ? n - 1 : n;
    Py_ssize_t label_start = 0;
    for (Py_ssize_t i = 0; i <= end; i++) {
        if (i == end || s[i] == '.') {
            Py_ssize_t size = i - label_start;
            if (size < 1 || size > 63 || length + 1 + size > MAX_NAME) return SLOW;
            wire[length++] = (unsigned char)size;
            for (Py_ssize_t j = label_start; j < i; j++) {
                unsigned char c = s[j];
                wire[length++] = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
            }
            label_start = i + 1;
        }
    }
    if (absolute) {
        wire[length++] = 0;
    } else {
        if (!origin->length || length + origin->length > MAX_NAME) return SLOW;
        memcpy(wire + length, origin->wire, (size_t)origin->length);
        length += origin->length;
    }
    if (length > MAX_NAME) return SLOW;
    return put(out, wire, length);
}

/* --- type bitmaps -------------------------------------------------------------------- */

static int put_bitmap(Buffer *out, const Token *tokens, int count) {
    int types[MAX_TYPES];
    unsigned char bitmap[TYPE_BITMAP_MAX];
    if (count > MAX_TYPES) return SLOW;
    for (int i = 0; i < count; i++) {
        const TypeName *t = lookup_type(&tokens[i]);
        if (!t) return SLOW;
        types[i] = t->value;
    }
    return put(out, bitmap, (Py_ssize_t)type_bitmap(types, count, bitmap));
}

/* --- RDATA --------------------------------------------------------------------------- */

static int put_numbers(Buffer *out, const Token *tokens, const int *bits, int count) {
    for (int i = 0; i < count; i++) {
        uint64_t v;
        if (parse_unsigned(&tokens[i], bits[i], &v)) return SLOW;
        int ok = bits[i] == 8 ? put_u8(out, v) : bits[i] == 16 ? put_u16(out, v) : put_u32(out, v);
        if (ok) return SLOW;
    }
    return PARSED;
}

static int put_address(Buffer *out, const Token *token, int family) {
    char text[64];
    unsigned char address[16];
    if (token->quoted || token->length <= 0 || token->length >= (Py_ssize_t)sizeof text)
        return SLOW;
    memcpy(text, token->start, (size_t)token->length);
    text[token->length] = 0;
    if (inet_pton(family, text, address) != 1) return SLOW;
    return put(out, address, family == AF_INET ? 4 : 16);
}

static int put_rdata(Buffer *out, int type, const Token *t, int n, const Origin *origin) {
    static const int key_fields[3] = {16, 8, 8};
    static const int nsec3_fields[3] = {8, 8, 16};
    static const int rrsig_fields[3] = {8, 8, 32};
    static const int soa_fields[5] = {32, 32, 32, 32, 32};
    uint64_t v;
    switch (type) {
    case T_A:
        return n == 1 ? put_address(out, &t[0], AF_INET) : SLOW;
    case T_AAAA:
        return n == 1 ? put_address(out, &t[0], AF_INET6) : SLOW;
    case T_NS: case T_CNAME: case T_PTR: case T_DNAME:
        return n == 1 ? put_name(out, &t[0], origin) : SLOW;
    case T_MX:
        if (n != 2 || parse_unsigned(&t[0], 16, &v) || put_u16(out, v)) return SLOW;
        return put_name(out, &t[1], origin);
    case T_TXT:
        if (n < 1) return SLOW;
        for (int i = 0; i < n; i++)
            if (t[i].length > 255 || put_u8(out, (uint64_t)t[i].length) ||
                put(out, t[i].start, t[i].length))
                return SLOW;
        return PARSED;
    case T_SOA:
        if (n != 7 || put_name(out, &t[0], origin) || put_name(out, &t[1], origin)) return SLOW;
        return put_numbers(out, &t[2], soa_fields, 5);
    case T_DS: case T_CDS: {
        if (n < 4 || put_numbers(out, t, key_fields, 3) || put_hex(out, &t[3], n - 3))
            return SLOW;
        /* a digest whose length does not fit its type (or the reserved type 0, or CDS
         * delete): the reader decides, with dnspython's rules */
        int digest_type = out->data[3];
        Py_ssize_t digest = out->length - 4;
        if (digest_type == 0 || (digest_type == 1 && digest != 20) ||
            ((digest_type == 2 || digest_type == 3) && digest != 32) ||
            (digest_type == 4 && digest != 48))
            return SLOW;
        return PARSED;
    }
    case T_DNSKEY: case T_CDNSKEY:
        if (n < 4 || put_numbers(out, t, key_fields, 3)) return SLOW;
        return put_base64(out, &t[3], n - 3);
    case T_RRSIG: {
        if (n < 9) return SLOW;
        const TypeName *covered = lookup_type(&t[0]);
        uint64_t expiration, inception;
        if (!covered || put_u16(out, (uint64_t)covered->value) ||
            put_numbers(out, &t[1], rrsig_fields, 3) || parse_time(&t[4], &expiration) ||
            parse_time(&t[5], &inception) || put_u32(out, expiration) ||
            put_u32(out, inception) || parse_unsigned(&t[6], 16, &v) || put_u16(out, v) ||
            put_name(out, &t[7], origin))
            return SLOW;
        return put_base64(out, &t[8], n - 8);
    }
    case T_NSEC:
        /* the next name keeps its case (RFC 6840 §5.1): upper case goes the slow way */
        for (Py_ssize_t i = 0; n >= 1 && i < t[0].length; i++)
            if (t[0].start[i] >= 'A' && t[0].start[i] <= 'Z') return SLOW;
        if (n < 1 || put_name(out, &t[0], origin)) return SLOW;
        return put_bitmap(out, &t[1], n - 1);
    case T_NSEC3: case T_NSEC3PARAM: {
        if (type == T_NSEC3 ? n < 5 : n != 4) return SLOW;
        if (put_numbers(out, t, nsec3_fields, 3)) return SLOW;
        Py_ssize_t length_at = out->length;
        if (put_u8(out, 0)) return SLOW;
        if (!(t[3].length == 1 && t[3].start[0] == '-' && !t[3].quoted)) {
            if (put_hex(out, &t[3], 1)) return SLOW;
        }
        Py_ssize_t salt = out->length - length_at - 1;
        if (salt > 255) return SLOW;
        out->data[length_at] = (unsigned char)salt;
        if (type == T_NSEC3PARAM) return PARSED;
        length_at = out->length;
        if (put_u8(out, 0) || put_base32hex(out, &t[4])) return SLOW;
        out->data[length_at] = (unsigned char)(out->length - length_at - 1);
        return put_bitmap(out, &t[5], n - 5);
    }
    default:
        return SLOW;
    }
}

/* --- records ------------------------------------------------------------------------- */

typedef struct {
    const unsigned char *data;
    Py_ssize_t size;
    Py_ssize_t position; /* start of the next line */
    Py_ssize_t line;     /* lines consumed */
    Token tokens[MAX_TOKENS];
    int count;
    int continued; /* the record's first line starts with a blank: the previous owner */
    Buffer rdata;
    Buffer owner;
} Parser;

/* What a character does in a bare token. */
enum { IN_TOKEN = 0, ENDS_TOKEN = 1, UNSURE = 2 };
static unsigned char char_class[256];

static void fill_char_class(void) {
    for (int c = 0; c < 256; c++)
        char_class[c] = (c < 0x20 || c == 0x7F || c == '"' || c == '\\') ? UNSURE : IN_TOKEN;
    static const char ends[] = " \t\r\n;()";
    for (const char *e = ends; *e; e++) char_class[(unsigned char)*e] = ENDS_TOKEN;
}

/* Split the record starting at the parser's position into tokens, following the reader's
 * rules (comments, parentheses across lines, quoted strings). On PARSED, ``*end`` is the
 * position after the record and ``*lines`` the lines it spans. */
static int tokenize(Parser *p, Py_ssize_t *end, Py_ssize_t *lines) {
    const unsigned char *d = p->data;
    Py_ssize_t i = p->position, size = p->size;
    int depth = 0;
    Py_ssize_t spanned = 1;
    p->count = 0;
    unsigned char first = d[i];
    if (first == ' ' || first == '\t') p->continued = 1;
    else if (first == '$' || first == '(' || first == ')' || first == '"' || first < 0x20)
        return SLOW;
    else p->continued = 0;
    while (i < size) {
        if (i - p->position > MAX_RECORD_TEXT) return SLOW;
        unsigned char c = d[i];
        if (c == '\n') {
            i++;
            if (depth == 0) break;
            spanned++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            i++;
            continue;
        }
        if (c == ';') {
            while (i < size && d[i] != '\n') i++;
            continue;
        }
        if (c == '(') {
            depth++;
            i++;
            continue;
        }
        if (c == ')') {
            if (--depth < 0) return SLOW;
            i++;
            continue;
        }
        if (c == '\\' || c < 0x20 || c == 0x7F) return SLOW;
        if (p->count >= MAX_TOKENS) return SLOW;
        Token *token = &p->tokens[p->count++];
        if (c == '"') {
            Py_ssize_t j = i + 1;
            while (j < size && d[j] != '"') {
                if (d[j] == '\\' || d[j] == '\n') return SLOW;
                j++;
            }
            if (j >= size) return SLOW;
            token->start = d + i + 1;
            token->length = j - i - 1;
            token->quoted = 1;
            i = j + 1;
            if (i < size) {
                unsigned char after = d[i];
                if (!(after == ' ' || after == '\t' || after == '\r' || after == '\n' ||
                      after == ';' || after == '(' || after == ')'))
                    return SLOW;
            }
            continue;
        }
        Py_ssize_t j = i;
        while (j < size && char_class[d[j]] == IN_TOKEN) j++;
        if (j < size && char_class[d[j]] == UNSURE) return SLOW;
        token->start = d + i;
        token->length = j - i;
        token->quoted = 0;
        i = j;
    }
    if (depth != 0 || i - p->position > MAX_RECORD_TEXT) return SLOW;
    *end = i;
    *lines = spanned;
    return PARSED;
}

/* Skip blank and comment-only lines; false at the end of the data. */
static int skip_blank_lines(Parser *p) {
    const unsigned char *d = p->data;
    while (p->position < p->size) {
        Py_ssize_t i = p->position;
        while (i < p->size && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r')) i++;
        if (i < p->size && d[i] == ';')
            while (i < p->size && d[i] != '\n') i++;
        if (i < p->size && d[i] != '\n') return 1;
        if (i - p->position > MAX_RECORD_TEXT) return 1; /* tokenize hands it over */
        p->position = i < p->size ? i + 1 : i;
        p->line++;
    }
    return 0;
}

/* Packed records (_packed.h) being written. */
typedef struct {
    unsigned char *data;
    size_t length, size;
} Packed;

static int pack(Packed *out, const Parser *p, long long ttl, int type, Py_ssize_t line,
                Py_ssize_t offset) {
    if (reserve(&out->data, &out->size, out->length,
                packed_size((size_t)p->owner.length, (size_t)p->rdata.length)))
        return -1;
    PackedHead head = {.line = line, .offset = offset, .ttl = (uint32_t)ttl,
                       .rdata_length = (uint32_t)p->rdata.length, .type = (uint16_t)type,
                       .owner_length = (uint8_t)p->owner.length};
    out->length = (size_t)(packed_put(out->data + out->length, &head, p->owner.data,
                                      p->rdata.data) - out->data);
    return 0;
}

static PyObject *parse(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t position, line, base_offset, limit;
    PyObject *origin_object, *owner_object;
    long long default_ttl, last_ttl;
    int packed = 0;
    if (!PyArg_ParseTuple(args, "y*nnnOOLLn|p", &view, &position, &line, &base_offset,
                          &origin_object, &owner_object, &default_ttl, &last_ttl, &limit,
                          &packed))
        return NULL;
    Origin origin = {NULL, 0};
    if (origin_object != Py_None) {
        if (!PyBytes_Check(origin_object)) {
            PyBuffer_Release(&view);
            PyErr_SetString(PyExc_TypeError, "origin must be bytes or None");
            return NULL;
        }
        origin.wire = (const unsigned char *)PyBytes_AS_STRING(origin_object);
        origin.length = PyBytes_GET_SIZE(origin_object);
    }
    if (owner_object != Py_None && !PyBytes_Check(owner_object)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_TypeError, "owner must be bytes or None");
        return NULL;
    }
    Parser *p = PyMem_Malloc(sizeof *p);
    PyObject *records = PyList_New(0);
    Packed out = {NULL, 0, 0};
    Py_ssize_t count = 0;
    /* packed: the current owner's wire form (length 0: none yet; a name is never empty),
     * and whether a record named a new one */
    struct {
        unsigned char data[MAX_NAME + 1];
        size_t length;
    } current = {{0}, 0};
    int renamed = 0;
    if (packed && owner_object != Py_None && PyBytes_GET_SIZE(owner_object) <= MAX_NAME) {
        current.length = (size_t)PyBytes_GET_SIZE(owner_object);
        memcpy(current.data, PyBytes_AS_STRING(owner_object), current.length);
    }
    if (!p || !records) {
        PyMem_Free(p);
        Py_XDECREF(records);
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    p->data = view.buf;
    p->size = view.len;
    p->position = position < 0 ? 0 : position > view.len ? view.len : position;
    p->line = line;
    Py_INCREF(owner_object);
    PyObject *owner = owner_object; /* the current owner, bytes or None (owned) */
    int slow = 0;
    while (count < limit && skip_blank_lines(p)) {
        Py_ssize_t end, lines;
        if (tokenize(p, &end, &lines)) {
            slow = 1;
            break;
        }
        int index = 0;
        PyObject *record_owner = NULL; /* new reference when the record names its owner */
        if (p->continued) {
            if (packed ? !current.length : owner == Py_None) {
                slow = 1;
                break;
            }
        } else {
            p->owner.length = 0;
            if (p->count < 1 || put_name(&p->owner, &p->tokens[0], &origin) ||
                p->owner.length > MAX_NAME) {
                slow = 1;
                break;
            }
            index = 1;
        }
        long long ttl = -1;
        int type = 0, parsed_type = 0;
        for (int step = 0; step < 3 && index < p->count; step++) {
            const Token *token = &p->tokens[index];
            if (token->length > 0 && token->start[0] >= '0' && token->start[0] <= '9' &&
                ttl < 0 && !token->quoted) {
                uint64_t v;
                if (parse_unsigned(token, 32, &v) || v > 0x7FFFFFFF) break;
                ttl = (long long)v;
                index++;
                continue;
            }
            if (token->length == 2 && !token->quoted && (token->start[0] | 0x20) == 'i' &&
                (token->start[1] | 0x20) == 'n') {
                index++;
                continue;
            }
            const TypeName *t = lookup_type(token);
            if (t) {
                type = t->value;
                parsed_type = t->parsed;
                index++;
            }
            break;
        }
        if (!type || !parsed_type) {
            slow = 1;
            break;
        }
        long long record_ttl = ttl;
        if (record_ttl < 0) record_ttl = default_ttl >= 0 ? default_ttl : last_ttl;
        if (record_ttl < 0) {
            slow = 1;
            break;
        }
        int quoted = 0;
        for (int k = index; k < p->count; k++) quoted |= p->tokens[k].quoted;
        p->rdata.length = 0;
        if ((quoted && type != T_TXT) ||
            put_rdata(&p->rdata, type, &p->tokens[index], p->count - index, &origin)) {
            slow = 1;
            break;
        }
        if (packed) {
            /* The owner: named by this record (p->owner) or the current one. */
            if (p->continued) {
                memcpy(p->owner.data, current.data, current.length);
                p->owner.length = current.length;
            } else {
                memcpy(current.data, p->owner.data, (size_t)p->owner.length);
                current.length = (size_t)p->owner.length;
                renamed = 1;
            }
            if (pack(&out, p, record_ttl, type, p->line + 1, base_offset + p->position))
                goto error;
        } else if (!p->continued) {
            if (owner != Py_None && PyBytes_GET_SIZE(owner) == p->owner.length &&
                memcmp(PyBytes_AS_STRING(owner), p->owner.data, (size_t)p->owner.length) == 0) {
                record_owner = owner;
                Py_INCREF(record_owner);
            } else {
                record_owner = PyBytes_FromStringAndSize((const char *)p->owner.data,
                                                         p->owner.length);
                if (!record_owner) goto error;
            }
            Py_SETREF(owner, record_owner); /* owner takes the reference */
        }
        if (!packed) {
            PyObject *record = Py_BuildValue(
                "(OLiy#nn)", owner, record_ttl, type, (const char *)p->rdata.data,
                p->rdata.length, p->line + 1, base_offset + p->position);
            if (!record) goto error;
            int appended = PyList_Append(records, record);
            Py_DECREF(record);
            if (appended) goto error;
        }
        count++;
        if (ttl >= 0) last_ttl = ttl;
        p->position = end;
        p->line += lines;
    }
    if (packed) {
        if (renamed) {
            PyObject *named = PyBytes_FromStringAndSize((const char *)current.data,
                                                        (Py_ssize_t)current.length);
            if (!named) goto error;
            Py_SETREF(owner, named);
        }
        PyObject *blob = PyBytes_FromStringAndSize((const char *)out.data, (Py_ssize_t)out.length);
        if (!blob) goto error;
        Py_SETREF(records, blob);
        PyMem_Free(out.data);
        out.data = NULL;
    }
    PyObject *result = Py_BuildValue("(NnnOLi)", records, p->position, p->line, owner, last_ttl,
                                     slow);
    Py_DECREF(owner);
    PyMem_Free(p);
    PyBuffer_Release(&view);
    return result;
error:
    Py_DECREF(owner);
    Py_DECREF(records);
    PyMem_Free(out.data);
    PyMem_Free(p);
    PyBuffer_Release(&view);
    return NULL;
}

static PyObject *type_names(PyObject *self, PyObject *unused) {
    PyObject *names = PyDict_New();
    if (!names) return NULL;
    for (const TypeName *t = TYPES; t->name; t++) {
        PyObject *value = Py_BuildValue("(ii)", t->value, t->parsed);
        if (!value || PyDict_SetItemString(names, t->name, value)) {
            Py_XDECREF(value);
            Py_DECREF(names);
            return NULL;
        }
        Py_DECREF(value);
    }
    return names;
}

static PyMethodDef METHODS[] = {
    {"parse", parse, METH_VARARGS,
     "parse(data, position, line, base_offset, origin, owner, default_ttl, last_ttl, limit,"
     " packed=False) -> (records, position, line, owner, last_ttl, slow); packed: the records"
     " as one bytes object (_packed.h) instead of a list of tuples"},
    {"type_names", type_names, METH_NOARGS,
     "The mnemonics this module knows: name -> (value, whether it parses the RDATA)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_fastread", "The zone reader's accelerator (see _fastread.c).", -1,
    METHODS, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fastread(void) {
    fill_type_table();
    fill_b64_table();
    fill_char_class();
    PyObject *module = PyModule_Create(&MODULE);
    if (module != NULL && PyModule_AddIntConstant(module, "MAX_RECORD_TEXT", MAX_RECORD_TEXT)) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
