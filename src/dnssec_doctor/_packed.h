/* Records packed in one bytes object: how the zone reader's accelerator
 * (zonefile/_fastread.c, ``parse(..., packed=True)``) hands runs of records to the zone
 * scanner (verify/_scan.c, ``Scanner.scan``) without a Python object per record. Each
 * record is a PackedHead, then the owner's wire form, then the RDATA: the fields of the
 * reader's record tuple (owner, ttl, type, rdata, line, offset). Both C parts are built
 * together, so the layout is simply the compiler's. Include after Python.h. */
#ifndef DNSSEC_DOCTOR_PACKED_H
#define DNSSEC_DOCTOR_PACKED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    int64_t line, offset; /* the record's first line; its first octet in the file */
    uint32_t ttl, rdata_length;
    uint16_t type;
    uint8_t owner_length;
} PackedHead;

/* Room for ``needed`` more octets after ``used`` in a PyMem buffer of ``*size`` octets,
 * doubling from 64 KiB: the packed records being written, the scanner's copy of an owner's
 * records. -1 with MemoryError set when memory runs out. */
static int reserve(unsigned char **data, size_t *size, size_t used, size_t needed) {
    if (*size - used >= needed) return 0;
    size_t grown_size = *size ? *size : 1 << 16;
    while (grown_size - used < needed) grown_size *= 2;
    unsigned char *grown = PyMem_Realloc(*data, grown_size);
    if (!grown) {
        PyErr_NoMemory();
        return -1;
    }
    *data = grown;
    *size = grown_size;
    return 0;
}

static size_t packed_size(size_t owner_length, size_t rdata_length) {
    return sizeof(PackedHead) + owner_length + rdata_length;
}

/* Writes one record at ``out`` (packed_size() octets of room); returns its end. */
static unsigned char *packed_put(unsigned char *out, const PackedHead *head,
                                 const unsigned char *owner, const unsigned char *rdata) {
    memcpy(out, head, sizeof *head);
    out += sizeof *head;
    memcpy(out, owner, head->owner_length);
    out += head->owner_length;
    memcpy(out, rdata, head->rdata_length);
    return out + head->rdata_length;
}

/* Reads the record at ``data + *at`` and moves ``*at`` past it; -1 when the record runs
 * past ``size`` (not something ``packed_put`` wrote). */
static int packed_next(const unsigned char *data, size_t size, size_t *at, PackedHead *head,
                       const unsigned char **owner, const unsigned char **rdata) {
    if (size - *at < sizeof *head) return -1;
    memcpy(head, data + *at, sizeof *head);
    size_t length = packed_size(head->owner_length, head->rdata_length);
    if (size - *at < length) return -1;
    *owner = data + *at + sizeof *head;
    *rdata = *owner + head->owner_length;
    *at += length;
    return 0;
}

#endif
