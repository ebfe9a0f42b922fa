/*
 * Atelier's JPEG encoder: raw 8-bit pixels to a baseline JPEG with libjpeg-turbo,
 * on libuv's thread pool, as a Node-API addon (docs/decisions/009-native-jpeg-encoder.md).
 *
 *   encode(pixels, width, height, channels, quality, chroma444, optimizeCoding) -> Promise<Buffer>
 *
 * why not sharp for this one step: post-processing ends by encoding the protected
 * render, and sharp's bundled mozjpeg takes about 1.6x libjpeg-turbo's time for the
 * same baseline file (same quantisation tables, sampling and optimised Huffman
 * tables; the two decode to the same pixels). jpeg.server.ts loads this and falls
 * back to sharp without it.
 *
 * The pixels stay referenced, not copied, until the encode ends; callers must not
 * change them meanwhile.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} ErrorManager;

static void on_error(j_common_ptr cinfo) {
  ErrorManager *err = (ErrorManager *) cinfo->err;
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

/* why: libjpeg prints warnings to stderr by default; an encoder warning means a
 * bad parameter, which is an error here. Trace messages (level > 0) are dropped. */
static void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) on_error(cinfo);
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref pixels_ref;
  const unsigned char *pixels;
  int width;
  int height;
  int channels;
  int quality;
  int chroma444;
  int optimize;
  /* The JPEG as it is written: `capacity` bytes allocated, `size` used once done. */
  unsigned char *out;
  size_t capacity;
  size_t size;
  int failed;
  char message[JMSG_LENGTH_MAX];
} EncodeJob;

/* A destination writing into job->out, growing it by doubling. why not jpeg_mem_dest:
 * its buffer is handed back only when the encode ends, so an error midway would
 * leave it to nobody. */
typedef struct {
  struct jpeg_destination_mgr pub;
  EncodeJob *job;
} Destination;

static void dest_init(j_compress_ptr cinfo) {
  Destination *dest = (Destination *) cinfo->dest;
  dest->pub.next_output_byte = dest->job->out;
  dest->pub.free_in_buffer = dest->job->capacity;
}

static boolean dest_grow(j_compress_ptr cinfo) {
  Destination *dest = (Destination *) cinfo->dest;
  EncodeJob *job = dest->job;
  size_t used = job->capacity;
  unsigned char *bigger = (unsigned char *) realloc(job->out, used * 2);
  if (!bigger) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 10);
  job->out = bigger;
  job->capacity = used * 2;
  dest->pub.next_output_byte = bigger + used;
  dest->pub.free_in_buffer = job->capacity - used;
  return TRUE;
}

static void dest_term(j_compress_ptr cinfo) {
  Destination *dest = (Destination *) cinfo->dest;
  dest->job->size = dest->job->capacity - dest->pub.free_in_buffer;
}

static void encode_execute(napi_env env, void *data) {
  (void) env;
  EncodeJob *job = (EncodeJob *) data;
  struct jpeg_compress_struct cinfo;
  ErrorManager err;
  Destination dest;
  memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  /* why this first size: a quality-92 photo takes well under a byte a pixel, and
   * malloc'd pages cost no memory until written. */
  job->capacity = (size_t) job->width * job->height * job->channels / 8 + 65536;
  job->out = (unsigned char *) malloc(job->capacity);
  if (!job->out) {
    job->failed = 1;
    snprintf(job->message, sizeof job->message, "out of memory for a %zu-byte JPEG buffer", job->capacity);
    return;
  }
  if (setjmp(err.jump)) {
    job->failed = 1;
    memcpy(job->message, err.message, sizeof job->message);
    jpeg_destroy_compress(&cinfo);
    return;
  }
  jpeg_create_compress(&cinfo);
  dest.pub.init_destination = dest_init;
  dest.pub.empty_output_buffer = dest_grow;
  dest.pub.term_destination = dest_term;
  dest.job = job;
  cinfo.dest = &dest.pub;
  cinfo.image_width = (JDIMENSION) job->width;
  cinfo.image_height = (JDIMENSION) job->height;
  cinfo.input_components = job->channels;
  cinfo.in_color_space = job->channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  cinfo.dct_method = JDCT_ISLOW;
  jpeg_set_quality(&cinfo, job->quality, TRUE);
  if (job->channels == 3 && job->chroma444) {
    for (int c = 0; c < 3; c++) {
      cinfo.comp_info[c].h_samp_factor = 1;
      cinfo.comp_info[c].v_samp_factor = 1;
    }
  }
  cinfo.optimize_coding = job->optimize ? TRUE : FALSE;
  jpeg_start_compress(&cinfo, TRUE);
  const size_t stride = (size_t) job->width * job->channels;
  JSAMPROW rows[32];
  while (cinfo.next_scanline < cinfo.image_height) {
    JDIMENSION count = cinfo.image_height - cinfo.next_scanline;
    if (count > 32) count = 32;
    for (JDIMENSION k = 0; k < count; k++) rows[k] = (JSAMPROW) (job->pixels + (cinfo.next_scanline + k) * stride);
    jpeg_write_scanlines(&cinfo, rows, count);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
}

static void reject(napi_env env, napi_deferred deferred, const char *text) {
  napi_value message, error;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  napi_reject_deferred(env, deferred, error);
}

static void encode_complete(napi_env env, napi_status status, void *data) {
  EncodeJob *job = (EncodeJob *) data;
  napi_value value;
  if (status != napi_ok || job->failed) {
    char text[JMSG_LENGTH_MAX + 32];
    snprintf(text, sizeof text, "JPEG encode failed: %s", job->failed ? job->message : "cancelled");
    reject(env, job->deferred, text);
  } else if (napi_create_buffer_copy(env, job->size, job->out, NULL, &value) == napi_ok) {
    napi_resolve_deferred(env, job->deferred, value);
  } else {
    reject(env, job->deferred, "JPEG encode: no memory for the result");
  }
  free(job->out);
  napi_delete_reference(env, job->pixels_ref);
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static int int_arg(napi_env env, napi_value value, int *out) {
  return napi_get_value_int32(env, value, out) == napi_ok;
}

static napi_value encode(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) {
    return throw_type(env, "encode(pixels, width, height, channels, quality, chroma444, optimizeCoding)");
  }
  bool is_typed = false;
  napi_is_typedarray(env, argv[0], &is_typed);
  if (!is_typed) return throw_type(env, "encode: pixels must be a Uint8Array");
  napi_typedarray_type type;
  size_t length;
  void *bytes;
  napi_get_typedarray_info(env, argv[0], &type, &length, &bytes, NULL, NULL);
  if (type != napi_uint8_array && type != napi_uint8_clamped_array) return throw_type(env, "encode: pixels must be a Uint8Array");
  int width, height, channels, quality;
  bool chroma444, optimize;
  if (!int_arg(env, argv[1], &width) || !int_arg(env, argv[2], &height) || !int_arg(env, argv[3], &channels) ||
      !int_arg(env, argv[4], &quality) || napi_get_value_bool(env, argv[5], &chroma444) != napi_ok ||
      napi_get_value_bool(env, argv[6], &optimize) != napi_ok) {
    return throw_type(env, "encode: width, height, channels and quality are integers; chroma444 and optimizeCoding booleans");
  }
  if (width < 1 || height < 1 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
    return throw_type(env, "encode: width and height must be 1 to 65500");
  }
  if (channels != 1 && channels != 3) return throw_type(env, "encode: 1 or 3 channels");
  if (quality < 1 || quality > 100) return throw_type(env, "encode: quality is 1 to 100");
  if ((double) width * height * channels > (double) length) return throw_type(env, "encode: pixels is shorter than width x height x channels");

  EncodeJob *job = (EncodeJob *) calloc(1, sizeof(EncodeJob));
  if (!job) {
    napi_throw_error(env, NULL, "encode: out of memory");
    return NULL;
  }
  job->pixels = (const unsigned char *) bytes;
  job->width = width;
  job->height = height;
  job->channels = channels;
  job->quality = quality;
  job->chroma444 = chroma444;
  job->optimize = optimize;
  napi_value promise, name;
  napi_create_reference(env, argv[0], 1, &job->pixels_ref);
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "atelier:jpeg-encode", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, encode_execute, encode_complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

NAPI_MODULE_INIT() {
  napi_value fn, version;
  napi_create_function(env, "encode", NAPI_AUTO_LENGTH, encode, NULL, &fn);
  napi_set_named_property(env, exports, "encode", fn);
  napi_create_int32(env, LIBJPEG_TURBO_VERSION_NUMBER, &version);
  napi_set_named_property(env, exports, "libjpegTurbo", version);
  return exports;
}
