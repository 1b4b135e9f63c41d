package carbon.peer;

import java.nio.charset.StandardCharsets;

/**
 * carbon.v1.PriceTick read straight from its protobuf bytes (five fields, see proto/carbon/v1/price_tick.proto):
 * a generated class would need protoc in the build for one message; unknown fields are skipped as protobuf says.
 */
final class PriceTickWire {
  final String commodity;
  final long tsMs;
  final double price;
  final String unit;
  final String source;

  private PriceTickWire(String commodity, long tsMs, double price, String unit, String source) {
    this.commodity = commodity;
    this.tsMs = tsMs;
    this.price = price;
    this.unit = unit;
    this.source = source;
  }

  static PriceTickWire decode(byte[] b) {
    String commodity = "";
    long tsMs = 0;
    double price = 0;
    String unit = "";
    String source = "";
    int[] at = {0};
    while (at[0] < b.length) {
      long tag = varint(b, at);
      int field = (int) (tag >>> 3);
      int wireType = (int) (tag & 7);
      switch (wireType) {
        case 0 -> {
          long v = varint(b, at);
          if (field == 2) tsMs = v;
        }
        case 1 -> {
          long bits = 0;
          for (int i = 0; i < 8; i++) bits |= (b[at[0] + i] & 0xffL) << (8 * i);
          at[0] += 8;
          if (field == 3) price = Double.longBitsToDouble(bits);
        }
        case 2 -> {
          int len = (int) varint(b, at);
          String s = new String(b, at[0], len, StandardCharsets.UTF_8);
          at[0] += len;
          if (field == 1) commodity = s;
          else if (field == 4) unit = s;
          else if (field == 5) source = s;
        }
        case 5 -> at[0] += 4;
        default -> throw new IllegalArgumentException("PriceTick: unsupported wire type " + wireType);
      }
    }
    return new PriceTickWire(commodity, tsMs, price, unit, source);
  }

  private static long varint(byte[] b, int[] at) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte x = b[at[0]++];
      v |= (long) (x & 0x7f) << shift;
      if ((x & 0x80) == 0) return v;
    }
    throw new IllegalArgumentException("PriceTick: varint longer than 10 bytes");
  }
}
