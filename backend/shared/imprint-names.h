/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The names of imprintd's D-Bus API, written once: the bus name, object
 * paths and interfaces, and the keys of the a{sv} options and replies
 * (data/dev.imprint.Imprint1.xml documents what each means). The daemon,
 * imprintctl and the app use these; imprint-request.h turns the option and
 * reply dictionaries into typed structs. The strings are the wire format:
 * never change one. */

/* Bus, objects, interfaces. */
#define IMPRINT_BUS_NAME              "dev.imprint.Imprint1"
#define IMPRINT_OBJECT_ROOT           "/dev/imprint/Imprint1"
#define IMPRINT_MANAGER_PATH          "/dev/imprint/Imprint1/Manager"
/* Jobs are IMPRINT_JOB_PATH_PREFIX + a number, under IMPRINT_OBJECT_ROOT's
 * org.freedesktop.DBus.ObjectManager. */
#define IMPRINT_JOB_PATH_PREFIX       "/dev/imprint/Imprint1/job/"
#define IMPRINT_MANAGER_INTERFACE     "dev.imprint.Imprint1.Manager"
#define IMPRINT_JOB_INTERFACE         "dev.imprint.Imprint1.Job"
/* Error names are this prefix + Failed, NotAuthorized, ... (imprint-error.c). */
#define IMPRINT_ERROR_NAME_PREFIX     "dev.imprint.Imprint1.Error."

/* Options every method understands. */
#define IMPRINT_KEY_NO_USER_INTERACTION "auth.no_user_interaction"  /* b */
#define IMPRINT_KEY_LOCALE              "locale"                    /* s; also a setup setting */

/* ListDisks options. */
#define IMPRINT_KEY_INCLUDE_LOOP      "include-loop"      /* b */
#define IMPRINT_KEY_INCLUDE_FILES     "include-files"     /* as */
#define IMPRINT_KEY_SOURCE            "source"            /* s; also a plan partition's and Install's result key */
#define IMPRINT_KEY_MIN_SIZE          "min-size"          /* t */
#define IMPRINT_KEY_PROBE_SHRINK      "probe-shrink"      /* b: run ntfsresize for IMPRINT_KEY_SHRINK */

/* ListDisks reply and the DiskAdded/DiskChanged signals: each disk
 * ("size" and "partitions" are below, with the plan's). */
#define IMPRINT_KEY_DEVICE            "device"            /* s: device node or image file */
#define IMPRINT_KEY_VENDOR            "vendor"            /* s */
#define IMPRINT_KEY_MODEL             "model"             /* s */
#define IMPRINT_KEY_ROTATIONAL        "rotational"        /* b */
#define IMPRINT_KEY_TRANSPORT         "transport"         /* s: IMPRINT_TRANSPORT_* and others */
#define IMPRINT_KEY_TABLE             "table"             /* s: "gpt", "dos", "" none */
#define IMPRINT_KEY_CONTENTS          "contents"          /* s, in words; also each partition's */
#define IMPRINT_KEY_FREE              "free"              /* a(tt): (start, size) */
#define IMPRINT_KEY_USABLE            "usable"            /* b */
#define IMPRINT_KEY_REASONS           "reasons"           /* as, in words: why not usable */
/* Each of a disk's partitions. */
#define IMPRINT_KEY_FILESYSTEM_LABEL  "filesystem-label"  /* s */
/* NTFS and BitLocker partitions, when ListDisks was asked to probe-shrink:
 * a{sv} with the keys after, and "reasons"/"reason-codes" (as): bitlocker,
 * hibernated, dirty, check-errors, too-full (ntfs-facts.h). */
#define IMPRINT_KEY_SHRINK            "shrink"            /* a{sv} */
#define IMPRINT_KEY_SHRINK_POSSIBLE   "possible"          /* b */
#define IMPRINT_KEY_SHRINK_USED       "used"              /* t: bytes in use */
#define IMPRINT_KEY_SHRINK_MIN_SIZE   "min-size"          /* t: smallest partition size Imprint shrinks to */

/* "transport" values the faces treat specially. */
#define IMPRINT_TRANSPORT_LOOP        "loop"
#define IMPRINT_TRANSPORT_FILE        "file"              /* an image file, not a disk */
#define IMPRINT_TRANSPORT_USB         "usb"
#define IMPRINT_TRANSPORT_NVME        "nvme"
#define IMPRINT_TRANSPORT_MMC         "mmc"

/* GetSecurityCapabilities reply: "tpm2", "secure-boot" (a{sv}), "fido2"
 * (aa{sv}, one per key: IMPRINT_KEY_FIDO2 below), each with the keys after. */
#define IMPRINT_KEY_TPM2              "tpm2"              /* a{sv} */
#define IMPRINT_KEY_SECURE_BOOT       "secure-boot"       /* a{sv} */
#define IMPRINT_KEY_AVAILABLE         "available"         /* b; also CheckForUpdates' versions */
#define IMPRINT_KEY_REASON            "reason"            /* s, in words: why not available/supported */
#define IMPRINT_KEY_MANUFACTURER      "manufacturer"      /* s: the TPM's, the FIDO2 key's */
#define IMPRINT_KEY_ENABLED           "enabled"           /* b: Secure Boot is on */
#define IMPRINT_KEY_PATH              "path"              /* s: a FIDO2 key's hidraw node */
#define IMPRINT_KEY_PRODUCT           "product"           /* s: a FIDO2 key's product name */

/* PlanInstall and Install options. */
#define IMPRINT_KEY_MODE              "mode"              /* s: IMPRINT_MODE_* */
#define IMPRINT_KEY_DEFER_DATA_PARTITIONS "defer-data-partitions" /* b */
#define IMPRINT_KEY_ENCRYPTION        "encryption"        /* as: IMPRINT_METHOD_* */
#define IMPRINT_KEY_ENCRYPT           "encrypt"           /* b, default true */
#define IMPRINT_KEY_DEFINITIONS       "definitions"       /* s: repart.d directory */
/* Free-space mode beside Windows: shrink the NTFS partition with this GPT
 * number of the target (resolved by imprintd in the table of the disk it
 * locked) to this many bytes first. */
#define IMPRINT_KEY_SHRINK_PARTITION  "shrink-partition"  /* t: GPT partition number */
#define IMPRINT_KEY_SHRINK_SIZE       "shrink-size"       /* t: the partition's new size */
#define IMPRINT_KEY_ROOT_HASH         "root-hash"         /* s */
#define IMPRINT_KEY_CERTIFICATE       "certificate"       /* s: PEM path */
#define IMPRINT_KEY_NO_BOOT_ENTRY     "no-boot-entry"     /* b */
#define IMPRINT_KEY_VERIFY_FIRST      "verify-first"      /* b, default true */
#define IMPRINT_KEY_HANDOVER          "handover"          /* b: the live session moves onto the disk */
#define IMPRINT_KEY_TPM2_DEVICE       "tpm2-device"       /* s; also GetSecurityCapabilities, ApplySetup, Enroll */
#define IMPRINT_KEY_TPM2_PCRS         "tpm2-pcrs"         /* s, e.g. "7+11" */
#define IMPRINT_KEY_TPM2_PIN          "tpm2-pin"          /* s, secret */
#define IMPRINT_KEY_TPM2_PUBLIC_KEY   "tpm2-public-key"   /* s: PEM path, "" none */
#define IMPRINT_KEY_FIDO2_DEVICE      "fido2-device"      /* s */
#define IMPRINT_KEY_PASSPHRASE        "passphrase"        /* s, secret */
#define IMPRINT_KEY_RECOVERY_KEY      "recovery-key"      /* s, secret */

#define IMPRINT_MODE_ERASE            "erase"
#define IMPRINT_MODE_FREE_SPACE       "free-space"

/* Unlock methods: the values of "encryption" and Enroll's @method. */
#define IMPRINT_METHOD_TPM2           "tpm2"
#define IMPRINT_METHOD_FIDO2          "fido2"
#define IMPRINT_METHOD_RECOVERY_KEY   "recovery-key"
#define IMPRINT_METHOD_PASSPHRASE     "passphrase"

/* The PlanInstall reply (and Install's result "plan"). */
#define IMPRINT_KEY_PARTITIONS        "partitions"        /* aa{sv} */
#define IMPRINT_KEY_ERASED            "erased"            /* as */
#define IMPRINT_KEY_SUMMARY           "summary"           /* s */
#define IMPRINT_KEY_TARGET            "target"            /* s */
#define IMPRINT_KEY_TARGET_SIZE       "target-size"       /* t */
#define IMPRINT_KEY_NAME              "name"              /* s */
#define IMPRINT_KEY_VERSION           "version"           /* s; also Update's result */
#define IMPRINT_KEY_ERASED_PARTITIONS "erased-partitions" /* aa{sv}: number, label, type-name, size */
#define IMPRINT_KEY_DEFINITIONS_SOURCE "definitions-source" /* s: IMPRINT_DEFINITIONS_FROM_* */
#define IMPRINT_KEY_DEFINITIONS_DIRECTORY "definitions-directory" /* s */
/* b, only when true: the erase overwrites data, so verify-first reads the
 * source before the copy, and /usr does not fit in the memory kept for the
 * copy to reuse: the source (a USB stick) is read twice. */
#define IMPRINT_KEY_SOURCE_READ_TWICE "source-read-twice"
/* Each partition of the plan. */
#define IMPRINT_KEY_NUMBER            "number"            /* u */
#define IMPRINT_KEY_TYPE              "type"              /* s */
#define IMPRINT_KEY_TYPE_NAME         "type-name"         /* s */
#define IMPRINT_KEY_LABEL             "label"             /* s */
#define IMPRINT_KEY_UUID              "uuid"              /* s */
#define IMPRINT_KEY_START             "start"             /* t */
#define IMPRINT_KEY_SIZE              "size"              /* t */
#define IMPRINT_KEY_ACTION            "action"            /* s: IMPRINT_ACTION_* */
#define IMPRINT_KEY_CONTENT           "content"           /* s: IMPRINT_CONTENT_NAME_* */
#define IMPRINT_KEY_DEFINITION        "definition"        /* s: the repart.d file (content "repart") */
#define IMPRINT_KEY_ADDS_BOOT_LOADER  "adds-boot-loader"  /* b: systemd-boot goes into this kept partition */
#define IMPRINT_KEY_ADDS_KERNELS      "adds-kernel-images" /* b: the UKIs go into this kept partition */
#define IMPRINT_KEY_LEFTOVER          "leftover"          /* b: left over from an interrupted install */
#define IMPRINT_KEY_SHRINK_FROM       "shrink-from"       /* t: kept NTFS shrunk from this size to "size" */

/* "content": where a partition's contents come from. */
#define IMPRINT_CONTENT_NAME_NONE           "none"            /* created empty (B slot) */
#define IMPRINT_CONTENT_NAME_EXISTING       "existing"        /* kept (or deleted) as it is */
#define IMPRINT_CONTENT_NAME_ESP            "esp"             /* copy of the source's ESP */
#define IMPRINT_CONTENT_NAME_BOOT_FILES     "boot-files"      /* kept; boot files added */
#define IMPRINT_CONTENT_NAME_XBOOTLDR       "xbootldr"        /* new, for the kernel images */
#define IMPRINT_CONTENT_NAME_USR            "usr"             /* verified copy, A slot */
#define IMPRINT_CONTENT_NAME_USR_VERITY     "usr-verity"
#define IMPRINT_CONTENT_NAME_USR_VERITY_SIG "usr-verity-sig"
#define IMPRINT_CONTENT_NAME_REPART         "repart"          /* made by systemd-repart */

/* "definitions-source". */
#define IMPRINT_DEFINITIONS_FROM_CALLER  "caller-directory"
#define IMPRINT_DEFINITIONS_FROM_RUNNING "running-system"
#define IMPRINT_DEFINITIONS_FROM_IMAGE   "source-image"

#define IMPRINT_ACTION_CREATE         "create"
#define IMPRINT_ACTION_KEEP           "keep"
#define IMPRINT_ACTION_DELETE         "delete"

/* Install's job result, besides "plan" and "source". */
#define IMPRINT_KEY_PLAN              "plan"              /* a{sv} */
#define IMPRINT_KEY_LUKS_UUID         "luks-uuid"         /* s */

/* ApplySetup settings. */
#define IMPRINT_KEY_KEYMAP            "keymap"            /* s */
#define IMPRINT_KEY_TIMEZONE          "timezone"          /* s */
#define IMPRINT_KEY_HOSTNAME          "hostname"          /* s */
#define IMPRINT_KEY_PRETTY_HOSTNAME   "pretty-hostname"   /* s */
#define IMPRINT_KEY_USER              "user"              /* a{sv}, the keys below */
#define IMPRINT_KEY_DISK_RECOVERY_KEY "disk-recovery-key" /* s, secret */
#define IMPRINT_KEY_DISK_FIDO2        "disk-fido2"        /* b */
#define IMPRINT_KEY_DISK_FIDO2_DEVICE "disk-fido2-device" /* s */
#define IMPRINT_KEY_DISK_DEVICE       "disk-device"       /* s */
#define IMPRINT_KEY_DISK_TPM2_DEVICE  "disk-tpm2-device"  /* s */
/* ApplySetup's "user" (also "recovery-key" and "fido2-device" above). */
#define IMPRINT_KEY_USER_NAME         "user-name"         /* s */
#define IMPRINT_KEY_REAL_NAME         "real-name"         /* s */
#define IMPRINT_KEY_PASSWORD          "password"          /* s, secret */
#define IMPRINT_KEY_FIDO2             "fido2"             /* b; aa{sv} in GetSecurityCapabilities */
#define IMPRINT_KEY_DISK_SIZE         "disk-size"         /* t */
#define IMPRINT_KEY_AUTO_LOGIN        "auto-login"        /* b */
#define IMPRINT_KEY_ADMINISTRATOR     "administrator"     /* b, default true */

/* GetSetupDefaults reply: the settings above ("locale", "keymap",
 * "timezone", "hostname", "pretty-hostname", "user") and these. */
#define IMPRINT_KEY_DECIDED           "decided"           /* as: setting keys an OEM fixed (pages to skip) */
#define IMPRINT_KEY_SETUP_PENDING     "setup-pending"     /* b */
#define IMPRINT_KEY_ONLINE            "online"            /* b */
#define IMPRINT_KEY_OEM               "oem"               /* b: the root was made at first boot */

/* ApplySetup and Enroll options: how an encrypted disk is opened. */
#define IMPRINT_KEY_UNLOCK_PASSPHRASE "unlock-passphrase" /* s, secret */
#define IMPRINT_KEY_UNLOCK_TPM2       "unlock-tpm2"       /* b */
#define IMPRINT_KEY_UNLOCK_TPM2_PIN   "unlock-tpm2-pin"   /* s, secret */
#define IMPRINT_KEY_UNLOCK_FIDO2      "unlock-fido2"      /* b */

/* Enroll and Unenroll options. */
#define IMPRINT_KEY_KEYSLOT           "keyslot"           /* i */
#define IMPRINT_KEY_TPM2_SIGNATURE    "tpm2-signature"    /* s: path */
#define IMPRINT_KEY_TPM2_PUBLIC_KEY_PCRS "tpm2-public-key-pcrs" /* s */
#define IMPRINT_KEY_FIDO2_WITH_CLIENT_PIN "fido2-with-client-pin" /* b, default true */
#define IMPRINT_KEY_FIDO2_WITH_USER_PRESENCE "fido2-with-user-presence" /* b, default true */
#define IMPRINT_KEY_FIDO2_WITH_USER_VERIFICATION "fido2-with-user-verification" /* b, default false */

/* GetUnlockStatus reply ("device", "reason" above; "reason" here is a
 * word: pcr-mismatch, signature, no-tpm, pin, lockout, tpm-error, unknown). */
#define IMPRINT_KEY_ENCRYPTED         "encrypted"         /* b: "/" is on LUKS2 */
#define IMPRINT_KEY_NEEDED_RECOVERY   "needed-recovery"   /* b: the TPM did not unlock it at this start */
#define IMPRINT_KEY_RESEALED          "resealed"          /* b: sealed again since */
#define IMPRINT_KEY_TPM2_ENROLLED     "tpm2-enrolled"     /* b */
#define IMPRINT_KEY_BOOT_ID           "boot-id"           /* s */
#define IMPRINT_KEY_DETAIL            "detail"            /* s: systemd's message, untranslated */

/* GetUpdateStatus reply ("reason" above when not "supported"). */
#define IMPRINT_KEY_SUPPORTED         "supported"         /* b; also GetFactoryResetInfo */
#define IMPRINT_KEY_IMAGE_ID          "image-id"          /* s */
#define IMPRINT_KEY_CURRENT_VERSION   "current-version"   /* s */
#define IMPRINT_KEY_OTHER_VERSION     "other-version"     /* s, "" when the other slot is empty */
#define IMPRINT_KEY_PENDING_VERSION   "pending-version"   /* s: installed, restart to use */
#define IMPRINT_KEY_AUTOMATIC         "automatic"         /* b */
/* CheckForUpdates: each version ("version" and "available" above). */
#define IMPRINT_KEY_NEWEST            "newest"            /* b */
#define IMPRINT_KEY_INSTALLED         "installed"         /* b */

/* GetFactoryResetInfo reply ("supported", "reason" above; "erased" is
 * aa{sv} here, each "definition", "label" and "description"). */
#define IMPRINT_KEY_PENDING           "pending"           /* b */
#define IMPRINT_KEY_KEPT              "kept"              /* as, in words */
#define IMPRINT_KEY_DESCRIPTION       "description"       /* s, in words */
#define IMPRINT_KEY_TPM_CLEAR_SUPPORTED "tpm-clear-supported" /* b */
#define IMPRINT_KEY_TPM_CLEAR_PENDING "tpm-clear-pending" /* b */

/* RequestFactoryReset options. */
#define IMPRINT_KEY_CLEAR_TPM         "clear-tpm"         /* b */

/* Update's job result (and "version" above). */
#define IMPRINT_KEY_REBOOT_REQUIRED   "reboot-required"   /* b */

/* Job.Request kinds. */
#define IMPRINT_REQUEST_FIDO2_PIN     "fido2-pin"         /* answer with the PIN */
#define IMPRINT_REQUEST_FIDO2_TOUCH   "fido2-touch"       /* answer "" once touched */

/* Job.Answer options. */
#define IMPRINT_KEY_CANCEL            "cancel"            /* b */
