/* unit_guarded_page: see unit.h. */
/* MAP_ANONYMOUS */
#define _DEFAULT_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"

unsigned char *unit_guarded_page(size_t *page) {
    unsigned char *map;
    *page = (size_t)sysconf(_SC_PAGESIZE);
    map = mmap(NULL, *page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + *page, *page, PROT_NONE), 0);
    return map;
}

void unit_guarded_page_free(unsigned char *p, size_t page) { munmap(p, page * 2); }
