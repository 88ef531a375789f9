using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace CouponAspire.Data.Migrations
{
    /// <inheritdoc />
    public partial class InitialSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "coupon_policies",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    total_quantity = table.Column<int>(type: "integer", nullable: false),
                    issued_count = table.Column<int>(type: "integer", nullable: false),
                    starts_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ends_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_coupon_policies", x => x.id);
                    table.CheckConstraint("ck_coupon_policies_issued_count_not_negative", "issued_count >= 0");
                    table.CheckConstraint("ck_coupon_policies_issued_count_within_total", "issued_count <= total_quantity");
                    table.CheckConstraint("ck_coupon_policies_total_quantity_positive", "total_quantity > 0");
                    table.CheckConstraint("ck_coupon_policies_window_ordered", "starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at");
                });

            migrationBuilder.CreateTable(
                name: "request_outcomes",
                columns: table => new
                {
                    request_id = table.Column<Guid>(type: "uuid", nullable: false),
                    policy_id = table.Column<long>(type: "bigint", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    outcome = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    coupon_id = table.Column<long>(type: "bigint", nullable: true),
                    kafka_partition = table.Column<int>(type: "integer", nullable: true),
                    kafka_offset = table.Column<long>(type: "bigint", nullable: true),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_request_outcomes", x => x.request_id);
                });

            migrationBuilder.CreateTable(
                name: "request_receipts",
                columns: table => new
                {
                    request_id = table.Column<Guid>(type: "uuid", nullable: false),
                    policy_id = table.Column<long>(type: "bigint", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_request_receipts", x => x.request_id);
                });

            migrationBuilder.CreateTable(
                name: "coupons",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    policy_id = table.Column<long>(type: "bigint", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    request_id = table.Column<Guid>(type: "uuid", nullable: false),
                    issued_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_coupons", x => x.id);
                    table.ForeignKey(
                        name: "fk_coupons_coupon_policies_policy_id",
                        column: x => x.policy_id,
                        principalTable: "coupon_policies",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_coupons_policy_id_user_id",
                table: "coupons",
                columns: new[] { "policy_id", "user_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_coupons_request_id",
                table: "coupons",
                column: "request_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_coupons_user_id",
                table: "coupons",
                column: "user_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "coupons");

            migrationBuilder.DropTable(
                name: "request_outcomes");

            migrationBuilder.DropTable(
                name: "request_receipts");

            migrationBuilder.DropTable(
                name: "coupon_policies");
        }
    }
}
