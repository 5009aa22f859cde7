// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Payroll
/// @notice A payroll account that credits payees.
contract PayrollTest002 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public admin;
    uint256 public feeBps;
    uint256 public totalDeposited;
    bool public paused;
    mapping(address => uint256) public contributions;
    mapping(address => bool) public isMember;
    address[] public members;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == admin, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        admin = msg.sender;
        feeBps = initialFee;
    }

    /// @notice Hand the contract to `newOwner`.
    function changeOwner(address newOwner) external onlyOwner {
        require(newOwner != address(0), "zero address");
        emit OwnerChanged(admin, newOwner);
        admin = newOwner;
    }

    /// @notice Add the caller to the member list once.
    function register() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        members.push(msg.sender);
    }

    /// @notice Send the caller's whole balance back to the caller.
    function claim() external {
        uint256 amount = contributions[msg.sender];
        require(amount > 0, "nothing to claim");
        contributions[msg.sender] = 0;
        totalDeposited -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Credit `share` to members `start` .. `start + count` (at most MAX_BATCH).
    function distribute(uint256 start, uint256 count, uint256 share) external onlyOwner {
        require(count <= MAX_BATCH, "batch too large");
        uint256 end = start + count;
        require(end <= members.length, "past the end");
        for (uint256 i = start; i < end; i++) {
            contributions[members[i]] += share;
        }
        totalDeposited += share * count;
    }

    /// @notice The ether the pool owes its members.
    function heldBalance() external view returns (uint256) {
        return totalDeposited;
    }

    function deposit() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        contributions[msg.sender] += msg.value;
        totalDeposited += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Stop or resume deposits.
    function setHalted(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }
}
