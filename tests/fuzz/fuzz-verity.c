/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A verity hash partition: superblock, tree geometry and the tree check.
 * Input: the hash partition, then 32 bytes taken as the root hash. */
#include "config.h"

#include "fuzz.h"
#include "verity.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ImprintVeritySuperblock sb;
  g_autoptr(ImprintVerityTree) tree = NULL;
  g_autoptr(GError) error = NULL;
  guint64 end, data_size;

  if (size < 32)
    return 0;
  size -= 32;
  if (!imprint_verity_superblock_parse (data, size, &sb, &error))
    return 0;
  end = imprint_verity_tree_end (&sb);
  data_size = imprint_verity_data_size (&sb);
  /* What imprint_source_inspect() requires before building the tree. */
  if (end > size || end > IMPRINT_VERITY_MAX_TREE_BYTES)
    return 0;
  tree = imprint_verity_tree_new (&sb, data, size, data + size, 32, &error);
  if (tree == NULL)
    return 0;
  /* Data of zeros: checked against level 0 without bytes. */
  if (data_size <= 1024 * 1024)
    (void) imprint_verity_tree_verify_zero (tree, 0, data_size, NULL);
  return 0;
}
