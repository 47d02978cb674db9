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

/* PlanInstall and Install options. */
#define IMPRINT_KEY_MODE              "mode"              /* s: IMPRINT_MODE_* */
#define IMPRINT_KEY_DEFER_DATA_PARTITIONS "defer-data-partitions" /* b */
#define IMPRINT_KEY_ENCRYPTION        "encryption"        /* as: IMPRINT_METHOD_* */
#define IMPRINT_KEY_ENCRYPT           "encrypt"           /* b, default true */
#define IMPRINT_KEY_DEFINITIONS       "definitions"       /* s: repart.d directory */
#define IMPRINT_KEY_ROOT_HASH         "root-hash"         /* s */
#define IMPRINT_KEY_CERTIFICATE       "certificate"       /* s: PEM path */
#define IMPRINT_KEY_NO_BOOT_ENTRY     "no-boot-entry"     /* b */
#define IMPRINT_KEY_VERIFY_FIRST      "verify-first"      /* b, default true */
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
/* Each partition of the plan. */
#define IMPRINT_KEY_NUMBER            "number"            /* u */
#define IMPRINT_KEY_TYPE              "type"              /* s */
#define IMPRINT_KEY_TYPE_NAME         "type-name"         /* s */
#define IMPRINT_KEY_LABEL             "label"             /* s */
#define IMPRINT_KEY_UUID              "uuid"              /* s */
#define IMPRINT_KEY_START             "start"             /* t */
#define IMPRINT_KEY_SIZE              "size"              /* t */
#define IMPRINT_KEY_ACTION            "action"            /* s: IMPRINT_ACTION_* */

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
#define IMPRINT_KEY_FIDO2             "fido2"             /* b */
#define IMPRINT_KEY_DISK_SIZE         "disk-size"         /* t */
#define IMPRINT_KEY_AUTO_LOGIN        "auto-login"        /* b */
#define IMPRINT_KEY_ADMINISTRATOR     "administrator"     /* b, default true */

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

/* RequestFactoryReset options. */
#define IMPRINT_KEY_CLEAR_TPM         "clear-tpm"         /* b */

/* Update's job result (and "version" above). */
#define IMPRINT_KEY_REBOOT_REQUIRED   "reboot-required"   /* b */

/* Job.Answer options. */
#define IMPRINT_KEY_CANCEL            "cancel"            /* b */
