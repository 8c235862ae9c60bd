/* The NSEC/NSEC3 type bitmap (RFC 4034 §4.1.2), for both C parts: the zone reader's
 * accelerator (zonefile/_fastread.c) writes the bitmaps a zone file lists, the zone
 * scanner (verify/_scan.c) the bitmaps an owner's data calls for. */
#ifndef DNSSEC_DOCTOR_TYPEBITMAP_H
#define DNSSEC_DOCTOR_TYPEBITMAP_H

#include <stdlib.h>
#include <string.h>

#define TYPE_BITMAP_MAX (256 * 34) /* 256 windows of a number, a length and 32 octets */

static int compare_ints(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Sorts ``types`` (0..65535, duplicates allowed), writes their bitmap to ``out``
 * (TYPE_BITMAP_MAX octets) and returns its length. */
static size_t type_bitmap(int *types, int count, unsigned char *out) {
    size_t length = 0;
    qsort(types, (size_t)count, sizeof types[0], compare_ints);
    int i = 0;
    while (i < count) {
        int window = types[i] >> 8;
        unsigned char octets[32] = {0};
        int used = 0;
        for (; i < count && types[i] >> 8 == window; i++) {
            int bit = types[i] & 0xFF;
            octets[bit >> 3] |= (unsigned char)(0x80 >> (bit & 7));
            if ((bit >> 3) + 1 > used) used = (bit >> 3) + 1;
        }
        out[length++] = (unsigned char)window;
        out[length++] = (unsigned char)used;
        memcpy(out + length, octets, (size_t)used);
        length += (size_t)used;
    }
    return length;
}

#endif
