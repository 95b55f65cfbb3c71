/* TCB_VERSION: eight bytes whose meaning depends on the product
 * (AMD 56860 TCB_VERSION; 57230 for Turin's layout):
 *
 *   byte   Milan / Genoa     Turin
 *   0      BL_SPL            FMC_SPL
 *   1      TEE_SPL           BL_SPL
 *   2      reserved (spl_4)  TEE_SPL
 *   3      reserved (spl_5)  SNP_SPL
 *   4      reserved (spl_6)  reserved
 *   5      reserved (spl_7)  reserved
 *   6      SNP_SPL           reserved
 *   7      UCODE_SPL         UCODE_SPL
 *
 * TCBs compare component-wise, never as integers (the microcode byte is the
 * most significant, so an integer compare would let it mask the others). */
#include <stdio.h>
#include <string.h>

#include "evidence/snp/snp.h"

static uint8_t byte_of(uint64_t raw, unsigned i) { return (uint8_t)(raw >> (8 * i)); }

snp_tcb snp_tcb_decode(uint64_t raw, snp_product p)
{
    snp_tcb t;
    memset(&t, 0, sizeof t);
    if (snp_product_turin_layout(p)) {
        t.fmc = byte_of(raw, 0);
        t.bootloader = byte_of(raw, 1);
        t.tee = byte_of(raw, 2);
        t.snp = byte_of(raw, 3);
        t.reserved[0] = byte_of(raw, 4);
        t.reserved[1] = byte_of(raw, 5);
        t.reserved[2] = byte_of(raw, 6);
    } else {
        t.bootloader = byte_of(raw, 0);
        t.tee = byte_of(raw, 1);
        for (unsigned i = 0; i < 4; i++)
            t.reserved[i] = byte_of(raw, 2 + i);
        t.snp = byte_of(raw, 6);
    }
    t.microcode = byte_of(raw, 7);
    return t;
}

uint64_t snp_tcb_encode(const snp_tcb *t, snp_product p)
{
    uint8_t b[8] = { 0 };
    if (snp_product_turin_layout(p)) {
        b[0] = t->fmc;
        b[1] = t->bootloader;
        b[2] = t->tee;
        b[3] = t->snp;
        b[4] = t->reserved[0];
        b[5] = t->reserved[1];
        b[6] = t->reserved[2];
    } else {
        b[0] = t->bootloader;
        b[1] = t->tee;
        for (unsigned i = 0; i < 4; i++)
            b[2 + i] = t->reserved[i];
        b[6] = t->snp;
    }
    b[7] = t->microcode;
    uint64_t raw = 0;
    for (unsigned i = 0; i < 8; i++)
        raw |= (uint64_t)b[i] << (8 * i);
    return raw;
}

bool snp_tcb_le(const snp_tcb *a, const snp_tcb *b, bool turin)
{
    if (turin && a->fmc > b->fmc)
        return false;
    return a->bootloader <= b->bootloader && a->tee <= b->tee && a->snp <= b->snp &&
           a->microcode <= b->microcode;
}

bool snp_tcb_eq(const snp_tcb *a, const snp_tcb *b, bool turin)
{
    return snp_tcb_le(a, b, turin) && snp_tcb_le(b, a, turin) &&
           memcmp(a->reserved, b->reserved, sizeof a->reserved) == 0;
}

void snp_tcb_format(const snp_tcb *t, bool turin, char *buf, size_t cap)
{
    if (turin)
        snprintf(buf, cap, "fmc=%u bl=%u tee=%u snp=%u ucode=%u", t->fmc, t->bootloader, t->tee,
                 t->snp, t->microcode);
    else
        snprintf(buf, cap, "bl=%u tee=%u snp=%u ucode=%u", t->bootloader, t->tee, t->snp,
                 t->microcode);
}
