/* Scanning owner groups in C: the per-record half of zone verification (see scan.py).
 *
 * For each owner name, in file order, this builds the RRsets, summarises the name for the
 * zone-wide checks (flags, expected NSEC/NSEC3 type bitmaps, NSEC3 hash, the NSEC it
 * holds), and judges every signature locally (RFC 4035 §5.3): signer, labels, key tag and
 * algorithm, then the cryptography over the canonical signed data (RFC 4034 §3.1.8.1,
 * §6), then the validity window. Keys are OpenSSL public keys loaded once; the signed data
 * is assembled in one buffer and hashed and verified without Python objects in between.
 *
 * finish() returns a named tuple (Totals) of the values scan.py documents: per-name and
 * per-NSEC3 tuples, per-code counts and the first examples of each code, expiry statistics. The
 * rules are the ones scan.py's docstring describes; verify/zone.py judges the rest.
 *
 * Bounds: the entry points check every argument first (record types 0-65535, TTLs and
 * key fields within their wire widths, owners of 1-255 octets, RDATA of at most 65535) and
 * raise ValueError otherwise; every key given is used (no fixed limit). Records normally
 * come from the zone reader (well-formed RDATA), but every offset into RDATA is checked
 * anyway; a malformed RRSIG counts as a bad signature.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "_packed.h"
#include "_typebitmap.h"

enum {
    T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_KEY = 25, T_AAAA = 28, T_DNAME = 39, T_DS = 43, T_RRSIG = 46, T_NSEC = 47, T_DNSKEY = 48,
    T_NSEC3 = 50,
};

/* Owner flags, as scan.py. */
enum {
    HAS_NS = 1, HAS_DS = 2, HAS_SOA = 4, HAS_RRSIG = 8, HAS_DATA = 16, HAS_NSEC = 32,
    IS_APEX = 64, HAS_DNAME = 128, CNAME_AND_OTHER_DATA = 256, SEVERAL_CNAMES = 512,
    SEVERAL_DNAMES = 1024, HAS_ADDRESS = 2048,
};

/* Failing statuses of one signature, most telling first (analysis.signatures's FAILURE_PRIORITY). */
enum {
    F_EXPIRED, F_NOT_YET_VALID, F_WINDOW_INVERTED, F_NO_MATCHING_KEY, F_BAD_SIGNATURE,
    F_KEY_REVOKED, F_SIGNER_MISMATCH, F_LABELS_INVALID, F_COUNT,
};
static const char *FAILURE_CODES[F_COUNT] = {
    "RRSIG_EXPIRED", "RRSIG_NOT_YET_VALID", "RRSIG_WINDOW_INVERTED", "RRSIG_NO_MATCHING_KEY",
    "RRSIG_BAD_SIGNATURE", "RRSIG_KEY_REVOKED", "RRSIG_SIGNER_MISMATCH", "RRSIG_LABELS_INVALID",
};

#define MAX_ALGORITHMS 256
#define MAX_TYPE 65535
#define MAX_TTL 4294967295LL /* RFC 2181 §8 limits a TTL to 31 bits; the wire holds 32 */
#define MAX_OWNER 255 /* octets of a name in wire form (RFC 1035 §2.3.4) */
#define MAX_RDATA 65535
#define DNSKEY_ZONE 0x0100 /* DNSKEY flags (RFC 4034 §2.1.1, RFC 5011 §3) */
#define DNSKEY_REVOKE 0x0080
#define DNSKEY_PROTOCOL 3
#define INITIAL_WIRE (65535 + 512)

typedef struct {
    int flags, protocol, algorithm, tag;
    int kind; /* 0 unusable, 1 RSA, 2 ECDSA, 3 EdDSA */
    int coordinate; /* ECDSA: octets of r and of s */
    const EVP_MD *md;
    EVP_PKEY *pkey;
    EVP_PKEY_CTX *ctx; /* RSA, ECDSA: ready for EVP_PKEY_verify */
} Key;

/* One record of the current owner; its RDATA is copied into the scanner's ``group``. */
typedef struct {
    long ttl;
    int type;
    size_t at; /* where in ``group`` */
    const unsigned char *rdata; /* set when the owner is scanned (``group`` may move before) */
    Py_ssize_t length;
} Entry;

typedef struct {
    PyObject_HEAD
    /* context */
    PyObject *origin; /* bytes */
    Key *keys;
    Key **usable; /* scratch: the keys that may have made one signature */
    int key_count;
    unsigned char supported[MAX_ALGORITHMS]; /* algorithms validators implement */
    unsigned char zone_algorithms[MAX_ALGORITHMS]; /* of the zone keys, and supported */
    int zone_algorithm_count;
    double now, expire_warning, soa_deadline;
    double *deadlines;
    Py_ssize_t horizon_count;
    PyObject *nsec3_salt; /* bytes or NULL */
    long nsec3_iterations;
    Py_ssize_t max_examples;
    /* the owner being collected: its records in ``entries``, their RDATA in ``group`` */
    PyObject *group_owner; /* bytes; NULL while no record is pending */
    long long group_line, group_offset; /* of its first record */
    Py_ssize_t pending;
    unsigned char *group;
    size_t group_used, group_size;
    /* results */
    PyObject *names, *nsec3s, *counts, *examples, *earliest, *bitmaps, *codes;
    PyObject *ns_targets; /* (owner, target) of every NS record in the zone */
    PyObject *ds_heads; /* (owner, key tag, algorithm, digest type) of every DS */
    long long records, rrsets, signatures, valid_signatures, before_soa_expire;
    long long *horizon_counts;
    /* scratch */
    Entry *entries;
    Py_ssize_t entry_capacity;
    unsigned char *wire; /* signed data */
    Py_ssize_t wire_size;
} Scanner;

/* --- small helpers ------------------------------------------------------------------ */

/* The offset just past the uncompressed name at ``start``, or -1. */
static Py_ssize_t name_end(const unsigned char *wire, Py_ssize_t length, Py_ssize_t start) {
    Py_ssize_t i = start;
    while (i < length && wire[i]) i += wire[i] + 1;
    return i < length ? i + 1 : -1;
}

static int label_count(const unsigned char *wire, Py_ssize_t length) {
    int count = 0;
    Py_ssize_t i = 0;
    while (i < length && wire[i]) {
        count++;
        i += wire[i] + 1;
    }
    if (length >= 2 && wire[0] == 1 && wire[1] == '*') count--;
    return count;
}

static uint32_t u32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Count the code for one RRset, keep the first examples (ScanResult.counts, .examples). */
static int note(Scanner *s, int code_index, PyObject *owner, Py_ssize_t offset, int type) {
    PyObject *code = PyTuple_GET_ITEM(s->codes, code_index);
    PyObject *count = PyDict_GetItemWithError(s->counts, code);
    if (!count && PyErr_Occurred()) return -1;
    long value = count ? PyLong_AsLong(count) + 1 : 1;
    PyObject *number = PyLong_FromLong(value);
    if (!number || PyDict_SetItem(s->counts, code, number)) {
        Py_XDECREF(number);
        return -1;
    }
    Py_DECREF(number);
    PyObject *kept = PyDict_GetItemWithError(s->examples, code);
    if (!kept) {
        if (PyErr_Occurred()) return -1;
        kept = PyList_New(0);
        if (!kept || PyDict_SetItem(s->examples, code, kept)) {
            Py_XDECREF(kept);
            return -1;
        }
        Py_DECREF(kept);
    }
    if (PyList_GET_SIZE(kept) < s->max_examples) {
        PyObject *example = Py_BuildValue("(Oni)", owner, offset, type);
        if (!example || PyList_Append(kept, example)) {
            Py_XDECREF(example);
            return -1;
        }
        Py_DECREF(example);
    }
    return 0;
}

/* Indices into ``codes`` after the failure codes. */
enum {
    C_ALGORITHM_UNSUPPORTED = F_COUNT, C_ALGORITHM_SIGNS_NOTHING, C_EXPIRES_SOON,
    C_TTL_EXCEEDS_ORIGINAL, C_TTL_OUTLIVES, C_TTL_MISMATCH, C_UNEXPECTED, C_MISSING,
    C_COVERS_RRSIG, C_COUNT,
};
static const char *OTHER_CODES[C_COUNT - F_COUNT] = {
    "RRSIG_ALGORITHM_UNSUPPORTED", "DNSKEY_ALGORITHM_SIGNS_NOTHING", "RRSIG_EXPIRES_SOON",
    "RRSIG_TTL_EXCEEDS_ORIGINAL", "RRSIG_TTL_OUTLIVES_SIGNATURE", "RRSIG_TTL_MISMATCH",
    "RRSIG_UNEXPECTED", "RRSIG_MISSING", "RRSIG_COVERS_RRSIG",
};

/* One bytes object per distinct value (type bitmaps: most names share a handful, and
 * the main process holds one summary per name). */
static PyObject *shared_bytes(Scanner *s, const unsigned char *data, Py_ssize_t length) {
    PyObject *key = PyBytes_FromStringAndSize((const char *)data, length);
    if (!key) return NULL;
    PyObject *known = PyDict_GetItemWithError(s->bitmaps, key);
    if (known) {
        Py_DECREF(key);
        Py_INCREF(known);
        return known;
    }
    if (PyErr_Occurred() || PyDict_SetItem(s->bitmaps, key, key)) {
        Py_DECREF(key);
        return NULL;
    }
    return key;
}

/* The type bitmap of ``types`` (sorted in place), one object per distinct bitmap. */
static PyObject *bitmap(Scanner *s, int *types, int count) {
    unsigned char out[TYPE_BITMAP_MAX];
    return shared_bytes(s, out, (Py_ssize_t)type_bitmap(types, count, out));
}

/* reader.sort_key: the labels right to left, joined by 0x00 (0x00 and 0x01 inside labels
 * escaped as 0x01 0x01 and 0x01 0x02). */
static PyObject *sort_key(const unsigned char *wire, Py_ssize_t length) {
    Py_ssize_t starts[128];
    int labels = 0;
    Py_ssize_t i = 0;
    while (i < length && wire[i] && labels < 128) {
        starts[labels++] = i;
        i += wire[i] + 1;
    }
    unsigned char out[2 * 256 + 128];
    Py_ssize_t n = 0;
    for (int l = labels - 1; l >= 0; l--) {
        Py_ssize_t start = starts[l] + 1, size = wire[starts[l]];
        if (start + size > length) break;
        for (Py_ssize_t j = 0; j < size; j++) {
            unsigned char c = wire[start + j];
            if (c <= 1) {
                out[n++] = 1;
                out[n++] = c ? 2 : 1;
            } else {
                out[n++] = c;
            }
        }
        if (l) out[n++] = 0;
    }
    return PyBytes_FromStringAndSize((const char *)out, n);
}

/* --- cryptography ----------------------------------------------------------------- */

/* Digests fetched once: OpenSSL 3 looks up EVP_sha256() and the like in its provider
 * store on every use, which costs more than hashing a signed RRset does. */
static const EVP_MD *MD_SHA1, *MD_SHA256, *MD_SHA384, *MD_SHA512;

static const EVP_MD *fetched(const char *name, const EVP_MD *legacy) {
    EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
    if (md) return md;
    ERR_clear_error();
    return legacy; /* fetched on each use instead */
}

static int verify_signature(Key *key, const unsigned char *signature, Py_ssize_t signature_length,
                            const unsigned char *data, Py_ssize_t data_length) {
    if (key->kind == 3) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ok = md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
                 EVP_DigestVerify(md, signature, (size_t)signature_length, data,
                                  (size_t)data_length) == 1;
        EVP_MD_CTX_free(md);
        ERR_clear_error();
        return ok;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    if (EVP_Digest(data, (size_t)data_length, digest, &digest_length, key->md, NULL) != 1) {
        ERR_clear_error();
        return 0;
    }
    int ok;
    if (key->kind == 2) {
        if (signature_length != 2 * key->coordinate) return 0;
        ECDSA_SIG *sig = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(signature, key->coordinate, NULL);
        BIGNUM *s = BN_bin2bn(signature + key->coordinate, key->coordinate, NULL);
        unsigned char *der = NULL;
        int der_length = -1;
        if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
            r = s = NULL; /* owned by sig */
            der_length = i2d_ECDSA_SIG(sig, &der);
        }
        ok = der_length > 0 &&
             EVP_PKEY_verify(key->ctx, der, (size_t)der_length, digest, digest_length) == 1;
        OPENSSL_free(der);
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
    } else {
        ok = EVP_PKEY_verify(key->ctx, signature, (size_t)signature_length, digest,
                             digest_length) == 1;
    }
    if (!ok) ERR_clear_error();
    return ok;
}

static int load_key(Key *key, const unsigned char *der, Py_ssize_t length) {
    const unsigned char *p = der;
    key->pkey = d2i_PUBKEY(NULL, &p, (long)length);
    if (!key->pkey) {
        ERR_clear_error();
        return 0;
    }
    switch (key->algorithm) {
    case 5: case 7: key->kind = 1; key->md = MD_SHA1; break;
    case 8: key->kind = 1; key->md = MD_SHA256; break;
    case 10: key->kind = 1; key->md = MD_SHA512; break;
    case 13: key->kind = 2; key->md = MD_SHA256; key->coordinate = 32; break;
    case 14: key->kind = 2; key->md = MD_SHA384; key->coordinate = 48; break;
    case 15: case 16: key->kind = 3; return 1;
    default: key->kind = 0; return 1;
    }
    key->ctx = EVP_PKEY_CTX_new(key->pkey, NULL);
    if (!key->ctx || EVP_PKEY_verify_init(key->ctx) != 1 ||
        (key->kind == 1 && (EVP_PKEY_CTX_set_rsa_padding(key->ctx, RSA_PKCS1_PADDING) != 1 ||
                            EVP_PKEY_CTX_set_signature_md(key->ctx, key->md) != 1))) {
        ERR_clear_error();
        key->kind = 0;
    }
    return 1;
}

/* --- one RRset --------------------------------------------------------------------- */

static int compare_rdata(const void *a, const void *b) {
    const Entry *x = *(const Entry *const *)a, *y = *(const Entry *const *)b;
    Py_ssize_t n = x->length < y->length ? x->length : y->length;
    int c = memcmp(x->rdata, y->rdata, (size_t)n);
    if (c) return c;
    return (x->length > y->length) - (x->length < y->length);
}

/* Judge the RRSIGs ``sigs`` over the RRset ``set`` (the rules in scan.py's docstring; a
 * test requires the judgements of verify.zone.rrset_findings on every RRset). */
static int check_rrset(Scanner *s, PyObject *owner_object, Py_ssize_t offset, int type,
                       long ttl, Entry **set, int set_count, Entry **sigs, int sig_count) {
    const unsigned char *owner = (const unsigned char *)PyBytes_AS_STRING(owner_object);
    Py_ssize_t owner_length = PyBytes_GET_SIZE(owner_object);
    const unsigned char *origin = (const unsigned char *)PyBytes_AS_STRING(s->origin);
    Py_ssize_t origin_length = PyBytes_GET_SIZE(s->origin);
    /* canonical order, duplicates removed */
    qsort(set, (size_t)set_count, sizeof set[0], compare_rdata);
    int unique = 0;
    for (int i = 0; i < set_count; i++)
        if (!unique || compare_rdata(&set[unique - 1], &set[i])) set[unique++] = set[i];
    int owner_labels = label_count(owner, owner_length);
    int wildcard = owner_length >= 2 && owner[0] == 1 && owner[1] == '*';
    int full_labels = owner_labels + wildcard;
    int failures[F_COUNT] = {0};
    unsigned char signed_by[MAX_ALGORITHMS] = {0};
    int any_supported = 0, ttl_mismatch = 0, exceeds_original = 0, any_valid = 0;
    uint32_t latest = 0;
    for (int g = 0; g < sig_count; g++) {
        const unsigned char *rrsig = sigs[g]->rdata;
        Py_ssize_t length = sigs[g]->length;
        s->signatures++;
        Py_ssize_t signer_end = length >= 19 ? name_end(rrsig, length, 18) : -1;
        if (signer_end < 0) {
            failures[F_BAD_SIGNATURE] = 1;
            continue;
        }
        int algorithm = rrsig[2], labels = rrsig[3];
        uint32_t original_ttl = u32(rrsig + 4), expiration = u32(rrsig + 8),
                 inception = u32(rrsig + 12);
        int tag = rrsig[16] << 8 | rrsig[17];
        if (signer_end - 18 != origin_length || memcmp(rrsig + 18, origin, (size_t)origin_length)) {
            failures[F_SIGNER_MISMATCH] = 1;
            signed_by[algorithm] = 1;
            continue;
        }
        if (labels > owner_labels) {
            failures[F_LABELS_INVALID] = 1;
            signed_by[algorithm] = 1;
            continue;
        }
        if (!s->supported[algorithm]) continue; /* validators ignore it */
        any_supported = 1;
        signed_by[algorithm] = 1;
        Key **usable = s->usable;
        int candidates = 0, usable_count = 0;
        for (int k = 0; k < s->key_count; k++) {
            Key *key = &s->keys[k];
            if (key->algorithm != algorithm || key->tag != tag) continue;
            if (!(key->flags & DNSKEY_ZONE) || key->protocol != DNSKEY_PROTOCOL) continue;
            candidates++;
            if (!(key->flags & DNSKEY_REVOKE) || type == T_DNSKEY) usable[usable_count++] = key;
        }
        if (!candidates) {
            failures[F_NO_MATCHING_KEY] = 1;
            continue;
        }
        if (!usable_count) {
            failures[F_KEY_REVOKED] = 1;
            continue;
        }
        /* RFC 4035 §5.3.2: a wildcard's signature is over "*." + the last labels. */
        unsigned char signed_owner[256 + 2];
        Py_ssize_t signed_owner_length = 0;
        if (labels < full_labels) {
            Py_ssize_t i = 0;
            for (int skip = full_labels - labels; skip > 0 && i < owner_length && owner[i]; skip--)
                i += owner[i] + 1;
            signed_owner[0] = 1;
            signed_owner[1] = '*';
            if (owner_length - i > 256) {
                failures[F_BAD_SIGNATURE] = 1;
                continue;
            }
            memcpy(signed_owner + 2, owner + i, (size_t)(owner_length - i));
            signed_owner_length = 2 + owner_length - i;
        } else {
            if (owner_length > 256) continue;
            memcpy(signed_owner, owner, (size_t)owner_length);
            signed_owner_length = owner_length;
        }
        /* the signed data: RRSIG RDATA without the signature, then each RR canonically
         * (uncompressed owners: a large RRset may exceed 64 KiB here) */
        Py_ssize_t needed = signer_end;
        for (int r = 0; r < unique; r++) needed += signed_owner_length + 10 + set[r]->length;
        if (needed > s->wire_size) {
            unsigned char *grown = PyMem_Realloc(s->wire, (size_t)needed);
            if (!grown) {
                PyErr_NoMemory();
                return -1;
            }
            s->wire = grown;
            s->wire_size = needed;
        }
        memcpy(s->wire, rrsig, (size_t)signer_end);
        Py_ssize_t n = signer_end;
        for (int r = 0; r < unique; r++) {
            Py_ssize_t rd = set[r]->length;
            unsigned char *w = s->wire + n;
            memcpy(w, signed_owner, (size_t)signed_owner_length);
            w += signed_owner_length;
            *w++ = (unsigned char)(type >> 8);
            *w++ = (unsigned char)type;
            *w++ = 0;
            *w++ = 1;
            memcpy(w, rrsig + 4, 4); /* the original TTL */
            w += 4;
            *w++ = (unsigned char)(rd >> 8);
            *w++ = (unsigned char)rd;
            memcpy(w, set[r]->rdata, (size_t)rd);
            n += signed_owner_length + 10 + rd;
        }
        if (inception > expiration) { /* valid at no moment: nothing to verify */
            failures[F_WINDOW_INVERTED] = 1;
            continue;
        }
        int verified = 0;
        for (int k = 0; k < usable_count && !verified; k++)
            if (usable[k]->kind)
                verified = verify_signature(usable[k], rrsig + signer_end, length - signer_end,
                                            s->wire, n);
        if (!verified) {
            failures[F_BAD_SIGNATURE] = 1;
            continue;
        }
        if ((double)expiration < s->now) {
            failures[F_EXPIRED] = 1;
            continue;
        }
        if ((double)inception > s->now) {
            failures[F_NOT_YET_VALID] = 1;
            continue;
        }
        s->valid_signatures++;
        if (!any_valid || expiration > latest) latest = expiration;
        any_valid = 1;
        if ((uint32_t)ttl > original_ttl) exceeds_original = 1;
        int earlier = s->earliest == Py_None;
        if (!earlier) {
            PyObject *first = PyTuple_GET_ITEM(s->earliest, 0);
            earlier = PyLong_AsUnsignedLong(first) > expiration;
        }
        if (earlier) {
            PyObject *earliest = Py_BuildValue("(kOi)", (unsigned long)expiration, owner_object,
                                               type);
            if (!earliest) return -1;
            Py_SETREF(s->earliest, earliest);
        }
        for (Py_ssize_t h = 0; h < s->horizon_count; h++)
            if ((double)expiration < s->deadlines[h]) s->horizon_counts[h]++;
        if ((double)expiration < s->soa_deadline) s->before_soa_expire++;
    }
    int judged = any_supported;
    for (int f = 0; f < F_COUNT; f++) {
        judged |= failures[f];
        if (failures[f] && note(s, f, owner_object, offset, type)) return -1;
    }
    if (!judged) {
        /* signed only with algorithms validators lack: that one finding says it all */
        if (s->zone_algorithm_count && note(s, C_ALGORITHM_UNSUPPORTED, owner_object, offset, type))
            return -1;
        return 0;
    }
    for (int a = 0; a < MAX_ALGORITHMS; a++)
        if (s->zone_algorithms[a] && !signed_by[a]) {
            if (note(s, C_ALGORITHM_SIGNS_NOTHING, owner_object, offset, type)) return -1;
            break;
        }
    if (any_valid) {
        double remaining = (double)latest - s->now;
        if (remaining < s->expire_warning &&
            note(s, C_EXPIRES_SOON, owner_object, offset, type))
            return -1;
        if (exceeds_original && note(s, C_TTL_EXCEEDS_ORIGINAL, owner_object, offset, type))
            return -1;
        if ((double)ttl > remaining && note(s, C_TTL_OUTLIVES, owner_object, offset, type))
            return -1;
    }
    /* RFC 4034 §3: every RRSIG over the RRset has the RRset's TTL, valid or not */
    for (int g = 0; g < sig_count && !ttl_mismatch; g++) ttl_mismatch = sigs[g]->ttl != ttl;
    if (ttl_mismatch && note(s, C_TTL_MISMATCH, owner_object, offset, type)) return -1;
    return 0;
}

/* --- one owner ------------------------------------------------------------------- */

/* base64.b32hexdecode(label.upper()), or NULL without an error when it would raise. */
static PyObject *b32hex_label(const unsigned char *label, Py_ssize_t length) {
    if (length % 8) return NULL;
    Py_ssize_t data = length;
    while (data > 0 && label[data - 1] == '=') data--;
    Py_ssize_t padding = length - data;
    if (!(padding == 0 || padding == 1 || padding == 3 || padding == 4 || padding == 6))
        return NULL;
    unsigned char out[160];
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < data; i += 8) {
        uint64_t accumulator = 0;
        Py_ssize_t end = i + 8 < data ? i + 8 : data;
        for (Py_ssize_t j = i; j < end; j++) {
            unsigned char c = label[j];
            if (c >= 'a' && c <= 'z') c = (unsigned char)(c - 32);
            int v;
            if (c >= '0' && c <= '9') v = c - '0';
            else if (c >= 'A' && c <= 'V') v = c - 'A' + 10;
            else return NULL;
            accumulator = (accumulator << 5) | (uint64_t)v;
        }
        accumulator <<= 5 * (8 - (end - i)); /* a short last quantum: as if padded */
        for (int b = 4; b >= 0; b--) out[n++] = (unsigned char)(accumulator >> (8 * b));
    }
    if (padding && n) n -= 5 - (43 - 5 * padding) / 8;
    return PyBytes_FromStringAndSize((const char *)out, n);
}

static int nsec3_owner(Scanner *s, PyObject *owner_object, PyObject *offset, PyObject *line,
                       Entry **entries, int count) {
    const unsigned char *owner = (const unsigned char *)PyBytes_AS_STRING(owner_object);
    Py_ssize_t owner_length = PyBytes_GET_SIZE(owner_object);
    PyObject *hashed = NULL;
    if (owner_length > 1 && owner[0] && 1 + owner[0] <= owner_length &&
        owner_length - 1 - owner[0] == PyBytes_GET_SIZE(s->origin) &&
        !memcmp(owner + 1 + owner[0], PyBytes_AS_STRING(s->origin),
                (size_t)(owner_length - 1 - owner[0]))) {
        hashed = b32hex_label(owner + 1, owner[0]);
        if (!hashed && PyErr_Occurred()) return -1;
    }
    if (!hashed) {
        hashed = Py_None;
        Py_INCREF(hashed);
    }
    for (int i = 0; i < count; i++) {
        const unsigned char *r = entries[i]->rdata;
        Py_ssize_t length = entries[i]->length;
        if (length < 5 || 5 + r[4] >= length || 6 + r[4] + r[5 + r[4]] > length) continue;
        Py_ssize_t salt = r[4], index = 5 + salt, hash_length = r[index];
        PyObject *types = shared_bytes(s, r + index + 1 + hash_length,
                                       length - index - 1 - hash_length);
        if (!types) {
            Py_DECREF(hashed);
            return -1;
        }
        PyObject *summary = Py_BuildValue(
            "(OOOOiiiy#y#N)", hashed, owner_object, offset, line, r[0], r[1], r[2] << 8 | r[3],
            (const char *)r + 5, salt, (const char *)r + index + 1, hash_length, types);
        if (!summary || PyList_Append(s->nsec3s, summary)) {
            Py_XDECREF(summary);
            Py_DECREF(hashed);
            return -1;
        }
        Py_DECREF(summary);
    }
    Py_DECREF(hashed);
    return 0;
}

static PyObject *nsec3_hash(Scanner *s, const unsigned char *owner, Py_ssize_t length) {
    const unsigned char *salt = (const unsigned char *)PyBytes_AS_STRING(s->nsec3_salt);
    Py_ssize_t salt_length = PyBytes_GET_SIZE(s->nsec3_salt);
    unsigned char buffer[512];
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    if (length + salt_length > (Py_ssize_t)sizeof buffer) Py_RETURN_NONE;
    memcpy(buffer, owner, (size_t)length);
    memcpy(buffer + length, salt, (size_t)salt_length);
    if (EVP_Digest(buffer, (size_t)(length + salt_length), digest, &digest_length, MD_SHA1, NULL) !=
        1)
        goto failed;
    for (long i = 0; i < s->nsec3_iterations; i++) {
        memcpy(buffer, digest, digest_length);
        memcpy(buffer + digest_length, salt, (size_t)salt_length);
        if (EVP_Digest(buffer, digest_length + (size_t)salt_length, digest, &digest_length, MD_SHA1,
                       NULL) != 1)
            goto failed;
    }
    return PyBytes_FromStringAndSize((const char *)digest, digest_length);
failed:
    ERR_clear_error();
    PyErr_SetString(PyExc_RuntimeError, "SHA-1 failed");
    return NULL;
}

static int covered_type(const Entry *rrsig) {
    return rrsig->length >= 2 ? rrsig->rdata[0] << 8 | rrsig->rdata[1] : 0;
}

/* The grouping key of an entry: its type, or for an RRSIG the type it covers. */
static int group_key(const Entry *e) {
    return e->type == T_RRSIG ? covered_type(e) : e->type;
}

/* By key, then file order (entries lie in file order in one array). */
static int compare_keys(const void *a, const void *b) {
    const Entry *x = *(const Entry *const *)a, *y = *(const Entry *const *)b;
    int kx = group_key(x), ky = group_key(y);
    if (kx != ky) return kx < ky ? -1 : 1;
    return (x > y) - (x < y);
}

/* One type's entries: ``sorted[start:end]``, the first of them ``first`` in file order. */
typedef struct {
    int type;
    int start, end;
    const Entry *first;
    int consumed;
} Run;

static int compare_first(const void *a, const void *b) {
    const Run *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

/* ``entries`` grouped by key: ``sorted`` gets them by key, each key's in file order, and
 * ``runs`` one run per key, by key. Sorting keeps an owner with thousands of types
 * (RFC 3597 lets a file have 65,535) from costing the square of that. */
static int group_entries(Entry **entries, int count, Entry **sorted, Run *runs) {
    memcpy(sorted, entries, sizeof(Entry *) * (size_t)count);
    qsort(sorted, (size_t)count, sizeof sorted[0], compare_keys);
    int run_count = 0;
    for (int i = 0; i < count;) {
        int key = group_key(sorted[i]), end = i;
        while (end < count && group_key(sorted[end]) == key) end++;
        runs[run_count++] = (Run){key, i, end, sorted[i], 0};
        i = end;
    }
    return run_count;
}

/* The run of ``type`` among runs sorted by type, or NULL. */
static Run *find_run(Run *runs, int count, int type) {
    int low = 0, high = count;
    while (low < high) {
        int middle = (low + high) / 2;
        if (runs[middle].type < type) low = middle + 1;
        else high = middle;
    }
    return low < count && runs[low].type == type ? &runs[low] : NULL;
}

/* The name's summary (scan.py's NameSummary without the unsigned types), or NULL. */
static PyObject *name_summary(Scanner *s, PyObject *owner, PyObject *offset, PyObject *line,
                              int has, int is_cut, const int *types, int type_count,
                              Entry *const *data, int data_count, int *scratch) {
    int n = 0;
    for (int t = 0; t < type_count; t++) {
        int type = types[t];
        if (is_cut ? (type == T_NS || type == T_DS) : (type != T_NSEC && type != T_NSEC3))
            scratch[n++] = type;
    }
    int *nsec_types = scratch + type_count + 2, *nsec3_types = nsec_types + type_count + 2;
    memcpy(nsec_types, scratch, sizeof(int) * (size_t)n);
    nsec_types[n] = T_NSEC;
    nsec_types[n + 1] = T_RRSIG;
    int nsec_n = n + 2;
    memcpy(nsec3_types, scratch, sizeof(int) * (size_t)n);
    int nsec3_n = n;
    if (is_cut ? (has & HAS_DS) != 0 : n > 0) nsec3_types[nsec3_n++] = T_RRSIG;

    PyObject *key = NULL, *expected_nsec = NULL, *expected_nsec3 = NULL, *hashed = NULL;
    PyObject *nsec = Py_None;
    Py_INCREF(nsec);
    if (!(expected_nsec = bitmap(s, nsec_types, nsec_n))) goto failed;
    if (!(expected_nsec3 = bitmap(s, nsec3_types, nsec3_n))) goto failed;
    if (!(key = sort_key((const unsigned char *)PyBytes_AS_STRING(owner),
                         PyBytes_GET_SIZE(owner))))
        goto failed;
    for (int i = 0; i < data_count; i++) { /* the first NSEC in file order */
        if (data[i]->type != T_NSEC) continue;
        Py_ssize_t end = name_end(data[i]->rdata, data[i]->length, 0);
        if (end < 0) break;
        PyObject *next = PyBytes_FromStringAndSize((const char *)data[i]->rdata, end);
        if (!next) goto failed;
        char *c = PyBytes_AS_STRING(next);
        for (Py_ssize_t j = 0; j < end; j++)
            if (c[j] >= 'A' && c[j] <= 'Z') c[j] = (char)(c[j] + 32);
        PyObject *listed = shared_bytes(s, data[i]->rdata + end, data[i]->length - end);
        if (!listed) {
            Py_DECREF(next);
            goto failed;
        }
        Py_SETREF(nsec, Py_BuildValue("(NN)", next, listed));
        if (!nsec) goto failed;
        break;
    }
    if (s->nsec3_salt) {
        hashed = nsec3_hash(s, (const unsigned char *)PyBytes_AS_STRING(owner),
                            PyBytes_GET_SIZE(owner));
        if (!hashed) goto failed;
    } else {
        hashed = Py_None;
        Py_INCREF(hashed);
    }
    return Py_BuildValue("(NOOOiNNNN)", key, owner, offset, line, has, expected_nsec,
                         expected_nsec3, hashed, nsec);
failed:
    Py_XDECREF(key);
    Py_XDECREF(expected_nsec);
    Py_XDECREF(expected_nsec3);
    Py_XDECREF(nsec);
    return NULL;
}

/* Append the name's summary with its unsigned types (scan.py's NameSummary). */
static int append_name(Scanner *s, PyObject *summary, const int *unsigned_types, int count) {
    PyObject *name = PyTuple_New(10);
    PyObject *types = PyTuple_New(count);
    if (!name || !types) {
        Py_XDECREF(name);
        Py_XDECREF(types);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        PyObject *type = PyLong_FromLong(unsigned_types[i]);
        if (!type) {
            Py_DECREF(name);
            Py_DECREF(types);
            return -1;
        }
        PyTuple_SET_ITEM(types, i, type);
    }
    for (int i = 0; i < 9; i++) {
        PyObject *item = PyTuple_GET_ITEM(summary, i);
        Py_INCREF(item);
        PyTuple_SET_ITEM(name, i, item);
    }
    PyTuple_SET_ITEM(name, 9, types);
    int appended = PyList_Append(s->names, name);
    Py_DECREF(name);
    return appended;
}

/* Whether ``owner`` is the origin or a name below it. */
static int in_zone(Scanner *s, PyObject *owner) {
    const unsigned char *name = (const unsigned char *)PyBytes_AS_STRING(owner);
    Py_ssize_t length = PyBytes_GET_SIZE(owner), origin_length = PyBytes_GET_SIZE(s->origin);
    Py_ssize_t suffix = length - origin_length, i = 0;
    if (suffix < 0) return 0;
    while (i < suffix && name[i]) i += name[i] + 1; /* stop at a label boundary */
    return i == suffix && !memcmp(name + suffix, PyBytes_AS_STRING(s->origin),
                                  (size_t)origin_length);
}

/* The pending owner: its RRsets, signatures and summary (scan.py describes the rules). */
static int scan_owner(Scanner *s) {
    Py_ssize_t count = s->pending;
    if (!count) return 0;
    /* pointers: data and signatures in file order, each grouped by type (covered type);
     * ints: the data types in order of first appearance, unsigned types, bitmap scratch */
    Entry **data = PyMem_Malloc((size_t)count * 4 * sizeof(Entry *));
    int *ints = PyMem_Malloc(((size_t)count * 5 + 16) * sizeof(int));
    Run *runs = PyMem_Malloc((size_t)count * sizeof(Run));
    PyObject *line = PyLong_FromLongLong(s->group_line);
    PyObject *offset_object = PyLong_FromLongLong(s->group_offset);
    if (!data || !ints || !runs || !line || !offset_object) {
        PyMem_Free(data);
        PyMem_Free(ints);
        PyMem_Free(runs);
        Py_XDECREF(line);
        Py_XDECREF(offset_object);
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    Entry **sorted = data + count, **sigs = sorted + count, **sorted_sigs = sigs + count;
    int *types = ints, *unsigned_types = types + count, *scratch = unsigned_types + count;
    int data_count = 0, sig_count = 0, unsigned_count = 0;
    PyObject *owner = s->group_owner;
    Py_ssize_t offset = (Py_ssize_t)s->group_offset;
    PyObject *summary = NULL;
    int result = -1;
    for (Py_ssize_t i = 0; i < count; i++) {
        Entry *e = &s->entries[i];
        e->rdata = s->group + e->at;
        if (e->type == T_RRSIG) sigs[sig_count++] = e;
        else data[data_count++] = e;
    }
    /* RRsets in order of first appearance (the order of notes and unsigned types);
     * signatures by covered type, to find an RRset's */
    Run *data_runs = runs;
    int type_count = group_entries(data, data_count, sorted, data_runs);
    qsort(data_runs, (size_t)type_count, sizeof(Run), compare_first);
    for (int t = 0; t < type_count; t++) types[t] = data_runs[t].type;
    Run *sig_runs = runs + type_count;
    int covered_count = group_entries(sigs, sig_count, sorted_sigs, sig_runs);
    if (PyErr_Occurred()) goto done;
    s->records += count;
    int has = 0, has_nsec3 = 0;
    for (int t = 0; t < type_count; t++) {
        switch (types[t]) {
        case T_NS: has |= HAS_NS; break;
        case T_A: case T_AAAA: has |= HAS_ADDRESS; break;
        case T_DS: has |= HAS_DS; break;
        case T_SOA: has |= HAS_SOA; break;
        case T_NSEC: has |= HAS_NSEC; break;
        case T_DNAME: has |= HAS_DNAME; break;
        case T_NSEC3: has_nsec3 = 1; break;
        }
        if (types[t] != T_NSEC && types[t] != T_NSEC3) has |= HAS_DATA;
    }
    /* RFC 2181 §10.1: a CNAME stands alone but for DNSSEC's RRSIG and NSEC (and KEY,
     * RFC 2535); CNAME and DNAME are singletons (RFC 6672 §2.4) */
    for (int t = 0; t < type_count; t++) {
        const Run *run = &data_runs[t];
        if (run->type == T_CNAME) {
            for (int u = 0; u < type_count; u++)
                if (types[u] != T_CNAME && types[u] != T_NSEC && types[u] != T_KEY)
                    has |= CNAME_AND_OTHER_DATA;
        }
        if (run->type != T_CNAME && run->type != T_DNAME) continue;
        const Entry *first = sorted[run->start];
        for (int r = run->start + 1; r < run->end; r++)
            if (sorted[r]->length != first->length ||
                memcmp(sorted[r]->rdata, first->rdata, (size_t)first->length))
                has |= run->type == T_CNAME ? SEVERAL_CNAMES : SEVERAL_DNAMES;
    }
    int is_apex = PyBytes_GET_SIZE(owner) == PyBytes_GET_SIZE(s->origin) &&
                  !memcmp(PyBytes_AS_STRING(owner), PyBytes_AS_STRING(s->origin),
                          (size_t)PyBytes_GET_SIZE(owner));
    if (is_apex) has |= IS_APEX;
    if (sig_count) has |= HAS_RRSIG;
    int is_cut = (has & HAS_NS) && !is_apex;

    if (!in_zone(s, owner)) {
        /* Out-of-zone data is never served: verify/zone.py reports the name; its
         * signatures and denial records are not the zone's. */
        s->rrsets += type_count;
        summary = name_summary(s, owner, offset_object, line, has, is_cut, types, type_count,
                               data, data_count, scratch);
        if (summary && !append_name(s, summary, unsigned_types, 0)) result = 0;
        goto done;
    }

    for (int i = 0; i < data_count; i++) { /* for the glue and DS checks (verify/zone.py) */
        const unsigned char *r = data[i]->rdata;
        PyObject *pair;
        if (data[i]->type == T_DS && data[i]->length >= 4)
            pair = Py_BuildValue("(Oiii)", owner, r[0] << 8 | r[1], r[2], r[3]);
        else if (data[i]->type == T_NS && name_end(r, data[i]->length, 0) >= 0)
            pair = Py_BuildValue("(Oy#)", owner, (const char *)r, data[i]->length);
        else
            continue;
        if (!pair || PyList_Append(data[i]->type == T_DS ? s->ds_heads : s->ns_targets, pair)) {
            Py_XDECREF(pair);
            goto done;
        }
        Py_DECREF(pair);
    }
    if (has_nsec3 && !(has & HAS_DATA) && !(has & HAS_NSEC)) {
        if (nsec3_owner(s, owner, offset_object, line, data, data_count)) goto done;
    } else {
        for (int i = 0; i < data_count; i++)
            if (data[i]->type == T_NSEC3 && nsec3_owner(s, owner, offset_object, line, &data[i], 1))
                goto done;
        summary = name_summary(s, owner, offset_object, line, has, is_cut, types, type_count,
                               data, data_count, scratch);
        if (!summary) goto done;
    }

    for (int t = 0; t < type_count; t++) {
        const Run *rrset = &data_runs[t];
        int type = rrset->type;
        long ttl = rrset->first->ttl; /* the RRset's: the least of its records' (RFC 2181 §5.2) */
        for (int r = rrset->start; r < rrset->end; r++)
            if (sorted[r]->ttl < ttl) ttl = sorted[r]->ttl;
        s->rrsets++;
        Run *covering = find_run(sig_runs, covered_count, type);
        if (covering) covering->consumed = 1;
        if (is_apex && type == T_DNSKEY) continue; /* judged by the DS -> DNSKEY link */
        if (!covering) {
            unsigned_types[unsigned_count++] = type;
            continue;
        }
        if (is_cut && type != T_DS && type != T_NSEC) {
            /* RFC 4035 §2.2: the NS at a delegation and glue are not signed. */
            if (note(s, C_UNEXPECTED, owner, offset, type)) goto done;
            continue;
        }
        if (check_rrset(s, owner, offset, type, ttl, &sorted[rrset->start],
                        rrset->end - rrset->start, &sorted_sigs[covering->start],
                        covering->end - covering->start))
            goto done;
    }
    /* signatures over types the owner lacks, in order of first appearance */
    qsort(sig_runs, (size_t)covered_count, sizeof(Run), compare_first);
    for (int c = 0; c < covered_count; c++)
        if (!sig_runs[c].consumed &&
            note(s, sig_runs[c].type == T_RRSIG ? C_COVERS_RRSIG : C_UNEXPECTED, owner, offset,
                 sig_runs[c].type))
            goto done;
    if (summary) {
        if (append_name(s, summary, unsigned_types, unsigned_count)) goto done;
    } else {
        for (int i = 0; i < unsigned_count; i++)
            if (note(s, C_MISSING, owner, offset, unsigned_types[i])) goto done;
    }
    result = 0;
done:
    Py_XDECREF(summary);
    Py_DECREF(line);
    Py_DECREF(offset_object);
    PyMem_Free(data);
    PyMem_Free(ints);
    PyMem_Free(runs);
    return result;
}

/* Scans the pending owner, if any, and starts afresh. */
static int flush_owner(Scanner *s) {
    int failed = scan_owner(s);
    Py_CLEAR(s->group_owner);
    s->pending = 0;
    s->group_used = 0;
    return failed;
}

/* One record, in file order: a new owner name scans the pending one first. ``owner_object``
 * is the owner as bytes when the caller has it (else NULL). */
static int add_record(Scanner *s, const unsigned char *owner, Py_ssize_t owner_length,
                      PyObject *owner_object, long ttl, int type, const unsigned char *rdata,
                      Py_ssize_t length, long long line, long long offset) {
    if (s->group_owner && (PyBytes_GET_SIZE(s->group_owner) != owner_length ||
                           memcmp(PyBytes_AS_STRING(s->group_owner), owner,
                                  (size_t)owner_length))) {
        if (flush_owner(s)) return -1;
    }
    if (!s->group_owner) {
        if (owner_object) {
            Py_INCREF(owner_object);
            s->group_owner = owner_object;
        } else {
            s->group_owner = PyBytes_FromStringAndSize((const char *)owner, owner_length);
            if (!s->group_owner) return -1;
        }
        s->group_line = line;
        s->group_offset = offset;
    }
    if (s->pending == s->entry_capacity) {
        if (s->pending >= INT_MAX / 8) {
            PyErr_SetString(PyExc_ValueError, "too many records at one owner name");
            return -1;
        }
        Py_ssize_t capacity = s->entry_capacity ? 2 * s->entry_capacity : 64;
        Entry *grown = PyMem_Realloc(s->entries, (size_t)capacity * sizeof(Entry));
        if (!grown) {
            PyErr_NoMemory();
            return -1;
        }
        s->entries = grown;
        s->entry_capacity = capacity;
    }
    if (reserve(&s->group, &s->group_size, s->group_used, (size_t)length)) return -1;
    if (length) memcpy(s->group + s->group_used, rdata, (size_t)length); /* group: NULL until used */
    Entry *e = &s->entries[s->pending++];
    e->ttl = ttl;
    e->type = type;
    e->at = s->group_used;
    e->rdata = NULL;
    e->length = length;
    s->group_used += (size_t)length;
    return 0;
}

/* --- the type ---------------------------------------------------------------------- */

static int Scanner_init(Scanner *s, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"origin", "keys", "supported", "now", "expire_warning",
                            "deadlines", "soa_deadline", "nsec3", "max_examples", NULL};
    PyObject *origin, *keys, *supported, *deadlines, *nsec3;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "SOOddOdOn", names, &origin, &keys,
                                     &supported, &s->now, &s->expire_warning, &deadlines,
                                     &s->soa_deadline, &nsec3, &s->max_examples))
        return -1;
    if (s->origin) {
        PyErr_SetString(PyExc_RuntimeError, "a scanner is initialised once");
        return -1;
    }
    if (PyBytes_GET_SIZE(origin) < 1 || PyBytes_GET_SIZE(origin) > MAX_OWNER) {
        PyErr_SetString(PyExc_ValueError, "the origin must be a name of 1-255 octets in wire form");
        return -1;
    }
    Py_INCREF(origin);
    Py_XSETREF(s->origin, origin);
    PyObject *supported_fast = PySequence_Fast(supported, "supported must be a sequence");
    if (!supported_fast) return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(supported_fast); i++) {
        long a = PyLong_AsLong(PySequence_Fast_GET_ITEM(supported_fast, i));
        if (a < 0 || a >= MAX_ALGORITHMS) {
            Py_DECREF(supported_fast);
            if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_OverflowError)) {
                PyErr_Clear();
                PyErr_SetString(PyExc_ValueError, "supported algorithms are 0-255");
            }
            return -1;
        }
        s->supported[a] = 1;
    }
    Py_DECREF(supported_fast);
    PyObject *key_list = PySequence_Fast(keys, "keys must be a sequence");
    if (!key_list) return -1;
    Py_ssize_t given = PySequence_Fast_GET_SIZE(key_list);
    if (given > INT_MAX / 2) {
        Py_DECREF(key_list);
        PyErr_SetString(PyExc_ValueError, "too many keys");
        return -1;
    }
    s->keys = PyMem_Calloc((size_t)given + 1, sizeof(Key));
    s->usable = PyMem_Calloc((size_t)given + 1, sizeof(Key *));
    if (!s->keys || !s->usable) {
        Py_DECREF(key_list);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < given; i++) {
        Key *key = &s->keys[s->key_count];
        const char *der = NULL;
        Py_ssize_t der_length = 0;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(key_list, i), "iiiiz#", &key->flags,
                              &key->protocol, &key->algorithm, &key->tag, &der, &der_length)) {
            Py_DECREF(key_list);
            return -1;
        }
        if (key->flags < 0 || key->flags > 0xFFFF || key->protocol < 0 || key->protocol > 0xFF ||
            key->algorithm < 0 || key->algorithm >= MAX_ALGORITHMS || key->tag < 0 ||
            key->tag > 0xFFFF) {
            Py_DECREF(key_list);
            PyErr_Format(PyExc_ValueError,
                         "key %zd: flags, protocol, algorithm and tag must fit their wire fields "
                         "(16, 8, 8 and 16 bits)",
                         i);
            return -1;
        }
        s->key_count++; /* from here on the key is freed with the scanner */
        if (der) load_key(key, (const unsigned char *)der, der_length);
        if ((key->flags & DNSKEY_ZONE) && key->protocol == DNSKEY_PROTOCOL &&
            s->supported[key->algorithm] && !s->zone_algorithms[key->algorithm]) {
            s->zone_algorithms[key->algorithm] = 1;
            s->zone_algorithm_count++;
        }
    }
    Py_DECREF(key_list);
    PyObject *deadline_list = PySequence_Fast(deadlines, "deadlines must be a sequence");
    if (!deadline_list) return -1;
    s->horizon_count = PySequence_Fast_GET_SIZE(deadline_list);
    s->deadlines = PyMem_Calloc((size_t)s->horizon_count + 1, sizeof(double));
    s->horizon_counts = PyMem_Calloc((size_t)s->horizon_count + 1, sizeof(long long));
    if (!s->deadlines || !s->horizon_counts) {
        Py_DECREF(deadline_list);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < s->horizon_count; i++)
        s->deadlines[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(deadline_list, i));
    Py_DECREF(deadline_list);
    if (PyErr_Occurred()) return -1;
    if (nsec3 != Py_None) {
        PyObject *salt;
        if (!PyArg_ParseTuple(nsec3, "Sl", &salt, &s->nsec3_iterations)) return -1;
        if (PyBytes_GET_SIZE(salt) > 255 || s->nsec3_iterations < 0 ||
            s->nsec3_iterations > 0xFFFF) {
            PyErr_SetString(PyExc_ValueError,
                            "nsec3 is (salt of at most 255 octets, iterations 0-65535)");
            return -1;
        }
        Py_INCREF(salt);
        Py_XSETREF(s->nsec3_salt, salt);
    }
    s->codes = PyTuple_New(C_COUNT);
    if (!s->codes) return -1;
    for (int i = 0; i < C_COUNT; i++) {
        PyObject *code = PyUnicode_InternFromString(i < F_COUNT ? FAILURE_CODES[i]
                                                                : OTHER_CODES[i - F_COUNT]);
        if (!code) return -1;
        PyTuple_SET_ITEM(s->codes, i, code);
    }
    s->names = PyList_New(0);
    s->ns_targets = PyList_New(0);
    s->ds_heads = PyList_New(0);
    s->nsec3s = PyList_New(0);
    s->counts = PyDict_New();
    s->examples = PyDict_New();
    s->bitmaps = PyDict_New();
    s->wire = PyMem_Malloc(INITIAL_WIRE);
    s->wire_size = INITIAL_WIRE;
    s->earliest = Py_None;
    Py_INCREF(Py_None);
    if (!s->names || !s->ns_targets || !s->ds_heads || !s->nsec3s || !s->counts || !s->examples || !s->bitmaps ||
        !s->wire) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void Scanner_dealloc(Scanner *s) {
    for (int i = 0; i < s->key_count; i++) {
        EVP_PKEY_CTX_free(s->keys[i].ctx);
        EVP_PKEY_free(s->keys[i].pkey);
    }
    PyMem_Free(s->keys);
    PyMem_Free(s->usable);
    Py_XDECREF(s->origin);
    Py_XDECREF(s->nsec3_salt);
    Py_XDECREF(s->group_owner);
    PyMem_Free(s->group);
    Py_XDECREF(s->names);
    Py_XDECREF(s->ns_targets);
    Py_XDECREF(s->ds_heads);
    Py_XDECREF(s->nsec3s);
    Py_XDECREF(s->counts);
    Py_XDECREF(s->examples);
    Py_XDECREF(s->earliest);
    Py_XDECREF(s->bitmaps);
    Py_XDECREF(s->codes);
    PyMem_Free(s->deadlines);
    PyMem_Free(s->horizon_counts);
    PyMem_Free(s->entries);
    PyMem_Free(s->wire);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static int check_record(PyObject *record) {
    if (!PyTuple_Check(record) || PyTuple_GET_SIZE(record) != 6 ||
        !PyBytes_Check(PyTuple_GET_ITEM(record, 0)) ||
        !PyLong_Check(PyTuple_GET_ITEM(record, 1)) ||
        !PyLong_Check(PyTuple_GET_ITEM(record, 2)) ||
        !PyBytes_Check(PyTuple_GET_ITEM(record, 3)) ||
        !PyLong_Check(PyTuple_GET_ITEM(record, 4)) ||
        !PyLong_Check(PyTuple_GET_ITEM(record, 5))) {
        PyErr_SetString(PyExc_TypeError, "a record is (owner, ttl, type, rdata, line, offset)");
        return -1;
    }
    return 0;
}

static int add_tuple(Scanner *s, PyObject *record) {
    if (check_record(record)) return -1;
    PyObject *owner = PyTuple_GET_ITEM(record, 0), *rdata = PyTuple_GET_ITEM(record, 3);
    long ttl = PyLong_AsLong(PyTuple_GET_ITEM(record, 1));
    long type = PyLong_AsLong(PyTuple_GET_ITEM(record, 2));
    long long line = PyLong_AsLongLong(PyTuple_GET_ITEM(record, 4));
    long long offset = PyLong_AsLongLong(PyTuple_GET_ITEM(record, 5));
    if (PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "a record's TTL, type, line or offset is out of range");
        }
        return -1;
    }
    if (type < 0 || type > MAX_TYPE) {
        PyErr_Format(PyExc_ValueError, "a record's type must be 0-65535, not %ld", type);
        return -1;
    }
    if (ttl < 0 || (long long)ttl > MAX_TTL) {
        PyErr_Format(PyExc_ValueError, "a record's TTL must be 0-4294967295, not %ld", ttl);
        return -1;
    }
    if (PyBytes_GET_SIZE(owner) < 1 || PyBytes_GET_SIZE(owner) > MAX_OWNER) {
        PyErr_SetString(PyExc_ValueError, "a record's owner must be 1-255 octets in wire form");
        return -1;
    }
    if (PyBytes_GET_SIZE(rdata) > MAX_RDATA) {
        PyErr_SetString(PyExc_ValueError, "a record's RDATA must be at most 65535 octets");
        return -1;
    }
    return add_record(s, (const unsigned char *)PyBytes_AS_STRING(owner), PyBytes_GET_SIZE(owner),
                      owner, ttl, (int)type, (const unsigned char *)PyBytes_AS_STRING(rdata),
                      PyBytes_GET_SIZE(rdata), line, offset);
}

static int add_packed(Scanner *s, PyObject *blob) {
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(blob);
    size_t size = (size_t)PyBytes_GET_SIZE(blob), at = 0;
    while (at < size) {
        PackedHead head;
        const unsigned char *owner, *rdata;
        if (packed_next(data, size, &at, &head, &owner, &rdata)) {
            PyErr_SetString(PyExc_ValueError, "truncated packed records");
            return -1;
        }
        /* the type and TTL fit by their widths */
        if (head.owner_length < 1 || head.rdata_length > MAX_RDATA) {
            PyErr_SetString(PyExc_ValueError,
                            "a packed record's owner must be 1-255 octets, its RDATA at most 65535");
            return -1;
        }
        if (add_record(s, owner, head.owner_length, NULL, (long)head.ttl, head.type, rdata,
                       (Py_ssize_t)head.rdata_length, head.line, head.offset))
            return -1;
    }
    return 0;
}

static PyObject *Scanner_scan(Scanner *s, PyObject *items) {
    if (!s->wire) {
        PyErr_SetString(PyExc_RuntimeError, "scanner not initialised");
        return NULL;
    }
    PyObject *iterator = PyObject_GetIter(items);
    if (!iterator) return NULL;
    PyObject *item;
    while ((item = PyIter_Next(iterator))) {
        int failed = PyBytes_Check(item) ? add_packed(s, item) : add_tuple(s, item);
        Py_DECREF(item);
        if (failed) {
            Py_DECREF(iterator);
            return NULL;
        }
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
}

/* What finish() returns: a named tuple (scan.py's ScanResult takes it field by field). */
static PyStructSequence_Field TOTALS_FIELDS[] = {
    {"names", "one summary per owner name (scan.py's NameSummary)"},
    {"nsec3s", "one summary per NSEC3 record (scan.py's Nsec3Summary)"},
    {"counts", "finding code -> RRsets noted"},
    {"examples", "finding code -> the first (owner, offset, type) noted"},
    {"records", "records scanned"},
    {"rrsets", "RRsets scanned"},
    {"signatures", "RRSIGs judged"},
    {"valid_signatures", "RRSIGs that verified and are in their window"},
    {"earliest", "(expiration, owner, covered type) of the earliest valid signature, or None"},
    {"horizon_counts", "valid signatures expiring before each deadline"},
    {"before_soa_expire", "valid signatures expiring before the SOA expire deadline"},
    {"ns_targets", "(owner, target) of every NS record inside the zone"},
    {"ds_heads", "(owner, key tag, algorithm, digest type) of every DS inside the zone"},
    {NULL, NULL},
};
enum { TOTALS_COUNT = sizeof TOTALS_FIELDS / sizeof TOTALS_FIELDS[0] - 1 };
static PyStructSequence_Desc TOTALS_DESC = {
    "dnssec_doctor.verify._scan.Totals", "The results of one scanner (Scanner.finish()).",
    TOTALS_FIELDS, TOTALS_COUNT,
};
static PyTypeObject *TotalsType;

static PyObject *Scanner_finish(Scanner *s, PyObject *unused) {
    if (!s->wire) {
        PyErr_SetString(PyExc_RuntimeError, "scanner not initialised");
        return NULL;
    }
    if (flush_owner(s)) return NULL;
    PyObject *horizons = PyList_New(s->horizon_count);
    if (!horizons) return NULL;
    for (Py_ssize_t i = 0; i < s->horizon_count; i++) {
        PyObject *count = PyLong_FromLongLong(s->horizon_counts[i]);
        if (!count) {
            Py_DECREF(horizons);
            return NULL;
        }
        PyList_SET_ITEM(horizons, i, count);
    }
    PyObject *values[TOTALS_COUNT] = {
        Py_NewRef(s->names), Py_NewRef(s->nsec3s), Py_NewRef(s->counts), Py_NewRef(s->examples),
        PyLong_FromLongLong(s->records), PyLong_FromLongLong(s->rrsets),
        PyLong_FromLongLong(s->signatures), PyLong_FromLongLong(s->valid_signatures),
        Py_NewRef(s->earliest), horizons, PyLong_FromLongLong(s->before_soa_expire),
        Py_NewRef(s->ns_targets), Py_NewRef(s->ds_heads),
    };
    PyObject *totals = PyStructSequence_New(TotalsType);
    for (int i = 0; i < TOTALS_COUNT; i++) {
        if (!values[i] || !totals) {
            for (int j = 0; j < TOTALS_COUNT; j++) Py_XDECREF(values[j]);
            Py_XDECREF(totals);
            return NULL;
        }
    }
    for (int i = 0; i < TOTALS_COUNT; i++) PyStructSequence_SET_ITEM(totals, i, values[i]);
    return totals;
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)Scanner_scan, METH_O,
     "scan(records): judge owner groups of records in file order; the last owner waits "
     "for the next call or finish()."},
    {"finish", (PyCFunction)Scanner_finish, METH_NOARGS,
     "finish() -> Totals: scan the last owner and return the results."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "dnssec_doctor.verify._scan.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Scanner(origin, keys, supported, now, expire_warning, deadlines, soa_deadline, "
              "nsec3, max_examples)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_scan", "Owner groups of a zone scanned in C (see _scan.c).", -1,
    NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__scan(void) {
    if (PyType_Ready(&ScannerType) < 0) return NULL;
    if (!TotalsType && !(TotalsType = PyStructSequence_NewType(&TOTALS_DESC))) return NULL;
    if (!MD_SHA1) { /* kept for the life of the process, like the module */
        MD_SHA1 = fetched("SHA1", EVP_sha1());
        MD_SHA256 = fetched("SHA256", EVP_sha256());
        MD_SHA384 = fetched("SHA384", EVP_sha384());
        MD_SHA512 = fetched("SHA512", EVP_sha512());
    }
    PyObject *module = PyModule_Create(&MODULE);
    if (!module) return NULL;
    if (PyModule_AddObjectRef(module, "Scanner", (PyObject *)&ScannerType) < 0 ||
        PyModule_AddObjectRef(module, "Totals", (PyObject *)TotalsType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
