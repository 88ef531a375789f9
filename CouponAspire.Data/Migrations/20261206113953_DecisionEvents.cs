using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CouponAspire.Data.Migrations
{
    /// <inheritdoc />
    public partial class DecisionEvents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "remaining_quantity",
                table: "request_outcomes",
                type: "integer",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "remaining_quantity",
                table: "request_outcomes");
        }
    }
}
